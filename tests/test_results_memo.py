"""The results memo (results_memo.py): a warm scan reuses findings only while nothing they depend on changed.

The oracle is a scan with `--no-cache`: after every edit below, the
remembered answer must equal the fresh one, and edits anywhere in the
project (another module, a config file) must be seen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codefix import engine
from codefix.engine import RunOptions, execute
from conftest import copy_tree, generated_corpus, invoke, write

FIXTURES = Path(__file__).parent / "fixtures"

PROJECT = {
    "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = ["slow: slow tests"]\n',
    "app/__init__.py": "",
    "app/ws.py": "def get_websocket_manager():\n    return object()\n",
    "app/service.py": "from app.ws import get_websocket_manager\n\n\nasync def handler():\n    return await get_websocket_manager()\n",
    "tests/test_a.py": "import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    pass\n",
}


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    """Counts the runs that had to index the project (a remembered scan does not)."""
    counted: list[int] = []
    original = engine.load_project

    def counting(*args, **kwargs):
        counted.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "load_project", counting)
    return counted


def scan(root: Path, *paths: Path, use_cache: bool = True, rules: tuple[str, ...] = ()) -> tuple:
    _, result = execute(RunOptions(paths=paths or (root,), rules=rules, use_cache=use_cache))
    return result.findings, result.errors


def touch(path: Path, text: str) -> None:
    """Rewrite a file and move its mtime on, as an editor a second later would."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_a_second_scan_is_remembered_and_equal(tmp_path: Path, loads: list[int]):
    root = write(tmp_path, PROJECT)
    first = scan(root)
    assert len(loads) == 1 and first[0]
    assert scan(root) == first
    assert len(loads) == 1
    assert scan(root, use_cache=False) == first


def test_an_edit_in_another_module_is_seen(tmp_path: Path, loads: list[int]):
    root = write(tmp_path, PROJECT)
    assert [f.rule for f in scan(root)[0]] == ["await-websocket"]
    touch(root / "app/ws.py", "async def get_websocket_manager():\n    return object()\n")
    assert scan(root)[0] == ()
    assert len(loads) == 2
    assert scan(root) == scan(root, use_cache=False)


def test_a_config_edit_is_seen_by_the_marker_rule(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    assert scan(root, rules=("pytest-markers",))[0] == ()
    touch(root / "pyproject.toml", PROJECT["pyproject.toml"].replace('"slow: slow tests"', '"fast: quick"'))
    after = scan(root, rules=("pytest-markers",))[0]
    assert [(f.path, f.line) for f in after] == [("tests/test_a.py", 4)]
    assert after == scan(root, rules=("pytest-markers",), use_cache=False)[0]


def test_a_new_file_is_seen(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    scan(root)
    write(root, {"app/other.py": "from app.ws import get_websocket_manager\n\n\nasync def f():\n    await get_websocket_manager()\n"})
    assert sorted(f.path for f in scan(root)[0]) == ["app/other.py", "app/service.py"]


def test_rules_and_paths_do_not_borrow_each_others_results(tmp_path: Path, loads: list[int]):
    root = write(tmp_path, PROJECT)
    everything = scan(root)
    only_markers = scan(root, rules=("pytest-markers",))
    assert only_markers[0] == ()
    assert len(loads) == 2  # another rule set is another state
    one_file = scan(root, root / "app" / "service.py")
    assert len(loads) == 3  # the file is remembered, but not the marker rule over this one file
    assert one_file == scan(root, root / "app" / "service.py", use_cache=False)
    assert scan(root, root / "app" / "service.py") == one_file
    assert scan(root) == everything
    assert scan(root, rules=("pytest-markers",)) == only_markers
    assert len(loads) == 4  # only the --no-cache scan since


def test_the_memo_keeps_a_few_states_not_all(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    for number in range(8):
        touch(root / "app/ws.py", f"def get_websocket_manager():\n    return {number}\n")
        scan(root)
    memo = next((root / ".codefix_cache").glob("results-*.json"))
    assert len(json.loads(memo.read_text())["states"]) == engine.ResultsMemo.KEPT_STATES


def test_a_damaged_memo_is_ignored_and_rewritten(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    first = scan(root)
    memo = next((root / ".codefix_cache").glob("results-*.json"))
    memo.write_text('{"states": {"x": {"app/service.py": ')
    assert scan(root) == first
    (state,) = json.loads(memo.read_text())["states"]
    memo.write_text(json.dumps({"states": {state: {"app/service.py": {"findings": [[1]], "errors": []}}}}))
    assert scan(root) == first
    memo.write_text(json.dumps({"states": [1, 2]}))
    assert scan(root) == first


@pytest.mark.parametrize(
    "tree", ["await_websocket/before", "await_sync/before", "clickhouse_async/before", "pytest_markers/precedence"]
)
def test_fixture_trees_scan_the_same_cold_warm_and_without_cache(tree: str, tmp_path: Path):
    root = copy_tree(FIXTURES / tree, tmp_path / "project")
    fresh = invoke("scan", "--format", "json", "--no-cache", ".", cwd=root)
    cold = invoke("scan", "--format", "json", ".", cwd=root)
    warm = invoke("scan", "--format", "json", ".", cwd=root)
    assert fresh.exit_code == cold.exit_code == warm.exit_code
    assert fresh.stdout == cold.stdout == warm.stdout
    assert json.loads(warm.stdout)["findings"] or json.loads(warm.stdout)["errors"]


def test_a_generated_monorepo_scans_the_same_with_any_number_of_jobs_and_with_or_without_cache(tmp_path: Path):
    root = tmp_path / "corpus"
    generated_corpus(root, 260, seed=5, largest=12)  # past the index's threshold for worker processes
    reports = [
        invoke("scan", "--format", "json", "--no-cache", "--jobs", "1", ".", cwd=root),
        invoke("scan", "--format", "json", "--no-cache", "--jobs", "2", ".", cwd=root),
        invoke("scan", "--format", "json", "--jobs", "2", ".", cwd=root),  # cold cache
        invoke("scan", "--format", "json", "--jobs", "1", ".", cwd=root),  # warm: remembered
    ]
    assert len({report.stdout for report in reports}) == 1
    assert json.loads(reports[0].stdout)["findings"]


@pytest.mark.parametrize(
    ("name", "watched"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements.in", True),
        ("constraints-ci.txt", True),
        ("requirements", False),  # a plain file of that name; a folder of that name is read whole
        ("my-requirements.txt", False),
        ("notes.txt", False),
    ],
)
def test_the_state_watches_the_files_that_can_pin_pytest(tmp_path: Path, name: str, watched: bool):
    from codefix.results_memo import project_state

    root = write(tmp_path, PROJECT)
    files = sorted(root.rglob("*.py"))
    before = project_state(root, files, "key", None)
    write(root, {f"app/{name}": "pytest<9\n"})
    assert (project_state(root, files, "key", None) != before) is watched


def test_files_are_stat_ed_once_a_run_the_caches_reading_what_the_state_signed(tmp_path: Path, monkeypatch):
    """The state's signatures go to the index builder, which keys both caches by them rather than stat-ing again."""
    import os

    from codefix.index import IndexBuilder
    from codefix.results_memo import project_state

    root = write(tmp_path, PROJECT)
    files = sorted(root.rglob("*.py"))
    signatures: dict[str, tuple[int, int] | None] = {}
    project_state(root, [*files, root / "gone.py"], "key", None, signatures)
    stats = {str(file): os.stat(file) for file in files}
    assert signatures == {**{text: (s.st_size, s.st_mtime_ns) for text, s in stats.items()}, str(root / "gone.py"): None}
    texts = list(map(str, files))
    builder = IndexBuilder(root, texts, use_cache=False, signatures=signatures)
    monkeypatch.setattr(os, "stat", lambda *a, **k: pytest.fail("stat-ed again"))
    for text in texts:
        assert builder.signature(text) == (stats[text].st_mtime_ns, stats[text].st_size)
    assert builder.signature(str(root / "gone.py")) is None
