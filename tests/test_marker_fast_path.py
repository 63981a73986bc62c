"""pytest-markers reads a file's text first: a file that plainly uses only registered markers is not parsed.

The oracle is the same run with the text check off (`plainly_used_markers`
always None: every file parsed). Findings, errors and changes must be equal
on every fixture tree, on a generated monorepo, and on files that use markers
in the spellings the text check must give up on; and the check must really
spare parses, or a check that never answers would pass unnoticed.
"""

from __future__ import annotations

from pathlib import Path


from codefix import parallel
from codefix.engine import RunOptions, load_project, run
from codefix.rules import _marker_uses
from codefix.rules._marker_uses import plainly_used_markers
from conftest import FIXTURES, copy_tree, generated_corpus, write


def _run(root: Path, fix: bool, monkeypatch, plain: bool) -> tuple:
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 10**9)  # parses counted in this process
    if not plain:
        monkeypatch.setattr(_marker_uses, "plainly_used_markers", lambda text: None)
    options = RunOptions(paths=(root,), rules=("pytest-markers",), fix=fix, use_cache=False, jobs=1)
    result = run(options, load_project(options))
    monkeypatch.undo()
    return result.findings, result.errors, tuple((c.path, c.before, c.after) for c in result.changes)


def _parses(root: Path, monkeypatch) -> int:
    calls: list[Path] = []
    original = _marker_uses.collect

    def counting(path, text):
        calls.append(path)
        return original(path, text)

    monkeypatch.setattr(_marker_uses, "collect", counting)
    _run(root, False, monkeypatch, True)
    return len(calls)


def _assert_same(root: Path, monkeypatch) -> set[str]:
    """Same findings and changes; errors only missing for unparsed files. Returns the files of those."""
    unparsed: set[str] = set()
    for fix in (False, True):
        fast, full = _run(root, fix, monkeypatch, True), _run(root, fix, monkeypatch, False)
        assert (fast[0], fast[2]) == (full[0], full[2]), (root, fix)
        assert set(fast[1]) <= set(full[1])
        for error in set(full[1]) - set(fast[1]):
            # A broken file whose text uses only registered markers, `mark.<name>` alone: never parsed.
            assert plainly_used_markers((root / error.path).read_text()) is not None, error
            unparsed.add(error.path)
    return unparsed


def test_every_fixture_tree(tmp_path: Path, monkeypatch):
    trees = [tree for tree in sorted(FIXTURES.glob("*/before")) if tree.is_dir()]
    for number, tree in enumerate(trees):
        _assert_same(copy_tree(tree, tmp_path / str(number)), monkeypatch)
    assert len(trees) >= 3


def _partial_collections(root: Path, monkeypatch) -> int:
    made: list[Path] = []
    original = _marker_uses._collect_around

    def counting(path, text, names):
        scanned = original(path, text, names)
        if scanned is not None:
            made.append(path)
        return scanned

    monkeypatch.setattr(_marker_uses, "_collect_around", counting)
    _run(root, False, monkeypatch, True)
    return len(made)


def test_a_generated_monorepo(tmp_path: Path, monkeypatch):
    root = tmp_path / "corpus"
    generated_corpus(root, 150, seed=3, largest=12)
    _assert_same(root, monkeypatch)
    tests = len(list(root.rglob("test_*.py")))
    assert _parses(root, monkeypatch) < tests / 2, "most test files use only registered markers"
    assert _partial_collections(root, monkeypatch) >= 2, "files with an unregistered marker are parsed around it"


_MANY_TESTS = "".join(f"\n\n@pytest.mark.slow\ndef test_{n}():\n    assert {n}\n" for n in range(12))
AROUND = {
    "pyproject.toml": '[tool.pytest.ini_options]\nmarkers = ["slow: slow"]\n',
    # Parsed around the one unregistered use: its test, and module-level code (the import).
    "tests/test_typo.py": "import pytest" + _MANY_TESTS + "\n\n@pytest.mark.slwo\ndef test_typo():\n    pass\n",
    # A string holding lines at column 0 makes a wrong cut: the whole file is parsed.
    "tests/test_string.py": (
        'import pytest\n\nDOC = """\ndef test_fake():\n    pass\n"""' + _MANY_TESTS
        + "\n\n@pytest.mark.unknown\ndef test_real():\n    pass\n"
    ),
    # The unregistered use inside a class: the class stays whole.
    "tests/test_class.py": (
        "import pytest" + _MANY_TESTS + "\n\nclass TestGroup:\n    @pytest.mark.grouped\n    def test_a(self):\n        pass\n"
    ),
    "tests/test_broken_elsewhere.py": (
        "import pytest" + _MANY_TESTS + "\n\ndef test_b(:\n    pass\n\n\n@pytest.mark.other\ndef test_c():\n    pass\n"
    ),
}


def test_files_are_parsed_around_their_unregistered_markers(tmp_path: Path, monkeypatch):
    root = write(tmp_path / "around", AROUND)
    assert _assert_same(root, monkeypatch) == set()
    # The string's cut, and the syntax error far from the unregistered use: the whole file is parsed.
    assert _partial_collections(root, monkeypatch) == 2
    findings, errors, _ = _run(root, False, monkeypatch, True)
    lines = {path: AROUND[path].splitlines() for path in AROUND}
    assert {(f.path, lines[f.path][f.line - 1].strip()) for f in findings} == {
        ("tests/test_typo.py", "@pytest.mark.slwo"),
        ("tests/test_string.py", "@pytest.mark.unknown"),
        ("tests/test_class.py", "@pytest.mark.grouped"),
    }
    assert [error.path for error in errors] == ["tests/test_broken_elsewhere.py"]


SPELLINGS = {
    "pyproject.toml": '[tool.pytest.ini_options]\nmarkers = ["slow: slow", "db: database"]\n',
    "tests/conftest.py": 'def pytest_configure(config):\n    config.addinivalue_line("markers", "local: from conftest")\n',
    "tests/test_plain.py": "import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    pass\n",
    "tests/test_plain_conftest.py": "import pytest\n\n\n@pytest.mark.local\ndef test_a():\n    pass\n",
    "tests/test_plain_unknown.py": "import pytest\n\n\n@pytest.mark.unknown\ndef test_a():\n    pass\n",
    "tests/test_alias.py": "from pytest import mark as m\n\n\n@m.unknown_alias\ndef test_a():\n    pass\n",
    "tests/test_assigned.py": "import pytest\n\nmk = pytest.mark\n\n\n@mk.unknown_assigned\ndef test_a():\n    pass\n",
    "tests/test_getattr.py": 'import pytest\n\n\n@getattr(pytest.mark, "unknown_getattr")\ndef test_a():\n    pass\n',
    "tests/test_add_marker.py": 'def test_a(request):\n    request.node.add_marker("unknown_added")\n',
    "tests/test_module_mark.py": "import pytest\n\npytestmark = [pytest.mark.unknown_module]\n\n\ndef test_a():\n    pass\n",
    "tests/test_param.py": (
        "import pytest\n\n\n@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.unknown_param)])\n"
        "def test_a(x):\n    pass\n"
    ),
    "tests/test_spaced.py": "import pytest\n\n\n@pytest.mark .unknown_spaced\ndef test_a():\n    pass\n",
    "tests/test_in_string.py": 'import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    """pytest.mark.not_a_use"""\n',
    "tests/test_broken.py": "import pytest\n\n\n@pytest.mark.slow\ndef test_a(:\n",
}


def test_every_spelling_of_a_marker_use(tmp_path: Path, monkeypatch):
    root = write(tmp_path / "spellings", SPELLINGS)
    assert _assert_same(root, monkeypatch) == {"tests/test_broken.py"}
    findings, _, _ = _run(root, False, monkeypatch, True)
    reported = {finding.path for finding in findings}
    # (`mk = pytest.mark` then `@mk.x` is not followed by the rule, parsed or not: the oracle holds it equal.)
    for name in ("plain_unknown", "alias", "getattr", "add_marker", "module_mark", "param", "spaced"):
        assert f"tests/test_{name}.py" in reported, name
    assert "tests/test_plain.py" not in reported and "tests/test_plain_conftest.py" not in reported


def test_the_text_check():
    assert plainly_used_markers("@pytest.mark.slow\n@pytest.mark.db(1)\n") == {"slow", "db"}
    assert plainly_used_markers("from pytest import mark\n@mark.slow\n") is None  # `mark` after import
    assert plainly_used_markers("import pytest\n@pytest.mark.slow.with_args(1)\n") == {"slow"}
    assert plainly_used_markers("m = pytest.mark\n") is None
    assert plainly_used_markers("pytestmark = pytest.mark.slow\n") is None
    assert plainly_used_markers('getattr(pytest.mark, "x")\n') is None
    assert plainly_used_markers("x = 1\n") == set()
