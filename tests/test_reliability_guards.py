"""Issue 7: concurrent edits, bad configuration, security, pathological input.

Each test states one promise and checks the disk afterwards, not only the
exit code: a promise about writing is a promise about bytes.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codefix.cli
import codefix.writer
from conftest import invoke, snapshot, write
from conftest import USE, USE_FIXED
from reliability_support import RULE, patches, read_patch, run_process, with_factory

# --- concurrent edits -------------------------------------------------------------------

EDITED = USE + "\n\n# edited by a person while codefix ran\n"


def test_a_file_edited_between_analysis_and_writing_is_left_alone(project: Path, monkeypatch):
    write(with_factory(project), {"pkg/a.py": USE, "pkg/b.py": USE, "pkg/c.py": USE})
    real_write_changes = codefix.writer.write_changes

    def edit_then_write(root, changes, *args, **kwargs):
        (project / "pkg/b.py").write_text(EDITED)  # after analysis, before any write
        return real_write_changes(root, changes, *args, **kwargs)

    monkeypatch.setattr(codefix.cli, "write_changes", edit_then_write)
    result = invoke("apply", *RULE, project, cwd=project)
    assert "pkg/b.py: error: changed while codefix was running; not written" in result.stdout
    assert (project / "pkg/b.py").read_text() == EDITED
    assert (project / "pkg/a.py").read_text() == (project / "pkg/c.py").read_text() == USE_FIXED
    [patch] = patches(project)
    assert set(read_patch(patch.read_bytes()).committed) == {"pkg/a.py", "pkg/c.py"}
    reverted = invoke("revert", patch, cwd=project)
    assert reverted.exit_code == 0, reverted.output
    assert [(project / f"pkg/{n}.py").read_text() for n in "abc"] == [USE, EDITED, USE]


def test_an_edit_in_the_last_instant_before_the_rename_is_not_overwritten(project: Path, monkeypatch):
    """The editor saves after codefix staged the new bytes: the check right before the rename sees it."""
    write(with_factory(project), {"pkg/a.py": USE, "pkg/b.py": USE})
    real_staged = codefix.writer.staged_replacement

    @contextlib.contextmanager
    def staged_then_edited(path, data):
        with real_staged(path, data) as replace:
            if path.name == "a.py":
                path.write_text(EDITED)
            yield replace

    monkeypatch.setattr(codefix.writer, "staged_replacement", staged_then_edited)
    result = invoke("apply", *RULE, project, cwd=project)
    assert "pkg/a.py: error: changed while codefix was running; not written" in result.stdout
    assert (project / "pkg/a.py").read_text() == EDITED
    assert (project / "pkg/b.py").read_text() == USE_FIXED
    assert not [p.name for p in (project / "pkg").iterdir() if p.name.endswith(".codefix-tmp")]
    [patch] = patches(project)
    assert set(read_patch(patch.read_bytes()).committed) == {"pkg/b.py"}


# --- the writer's own refusals ------------------------------------------------------------------
# The engine never hands the writer such changes today; the writer checks anyway.

WRITER_REFUSALS = {
    "python that does not parse": ("pkg/use.py", USE_FIXED.replace("return", "return return"), "would not parse"),
    "toml that does not parse": ("pyproject.toml", '[project\nname = "x"\n', "would not parse"),
    "absolute path": ("{root}/pkg/use.py", USE_FIXED, "outside the project root"),
    "climbing path": ("../project/pkg/use.py", USE_FIXED, "outside the project root"),
    "line break in the name": ("pkg/use\n.py", USE_FIXED, "line break"),
}


@pytest.mark.parametrize("name", list(WRITER_REFUSALS))
def test_the_writer_refuses_changes_that_must_not_be_written(project: Path, name: str):
    from codefix.types import FileChange
    from codefix.writer import write_changes

    path, after, reason = WRITER_REFUSALS[name]
    path = path.format(root=project)
    write(with_factory(project), {"pkg/use.py": USE, "pkg/use\n.py": USE})
    before = snapshot(project)
    current = (project / path).read_bytes() if (project / path).is_file() else USE.encode()
    change = FileChange(path=path, before=current, after=after.encode())
    outcome = write_changes(project, [change], project / ".codefix" / "patches" / "x.patch")
    assert outcome.written == () and outcome.patch_path is None
    [error] = outcome.errors
    assert reason in error.message and error.message.endswith("; not written"), error
    assert snapshot(project) == before and patches(project) == []


CONTENTS = {
    "python": ("pkg/a.py", b"async def f():\n    return await g()\n", None),
    "latin-1 cookie": ("pkg/a.py", b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n", None),
    "BOM": ("pkg/a.py", b"\xef\xbb\xbfx = 1\n", None),
    "not UTF-8 without a cookie": ("pkg/a.py", b"name = 'caf\xe9'\n", "SyntaxError"),
    "unclosed bracket": ("pkg/a.py", b"x = (\n", "SyntaxError"),
    "null byte": ("pkg/a.py", b"x = 1\x00\n", "SyntaxError"),
    "duplicate argument (refused on import too)": ("pkg/a.py", b"def f(a, a):\n    pass\n", "SyntaxError"),
    "toml": ("pyproject.toml", b"[tool.pytest.ini_options]\nmarkers = ['slow']\n", None),
    "toml with a BOM": ("pyproject.toml", b"\xef\xbb\xbf[project]\nname = 'x'\n", None),
    "broken toml": ("pyproject.toml", b"[project\n", "TOMLDecodeError"),
    "other files are not checked": ("setup.cfg", b"[unclosed\n", None),
}


@pytest.mark.parametrize("name", list(CONTENTS))
def test_content_error_says_why_new_bytes_would_not_parse(name: str):
    from codefix.sourcefile import content_error

    path, content, problem = CONTENTS[name]
    found = content_error(path, content)
    assert found == problem if problem is None else found.startswith(problem + ": ")


def test_a_rewrite_that_would_not_parse_is_not_applied_and_said(project: Path, monkeypatch):
    import libcst as cst

    import codefix.engine

    def invalid(module, reports):  # LibCST prints a keyword as a name; CPython refuses it
        statement = cst.Assign(targets=[cst.AssignTarget(cst.Name("return"))], value=cst.Integer("1"))
        return module.with_changes(body=[*module.body, cst.SimpleStatementLine([statement])])

    monkeypatch.setattr(codefix.engine, "apply_reports", invalid)
    write(with_factory(project), {"pkg/use.py": USE})
    before = snapshot(project)
    result = invoke("apply", *RULE, project, cwd=project)
    assert "pkg/use.py: error: fix not applied: the rewritten file would not be valid (SyntaxError" in result.stdout
    assert snapshot(project) == before and patches(project) == []


def test_bytes_checked_where_the_change_was_made_are_not_parsed_again_other_bytes_are(project: Path, monkeypatch):
    import dataclasses

    import codefix.writer
    from codefix.types import FileChange
    from codefix.writer import write_changes

    write(with_factory(project), {"pkg/use.py": USE})
    parsed: list[bytes] = []
    real_check = codefix.writer.content_error

    def counting(path: str, content: bytes):
        parsed.append(content)
        return real_check(path, content)

    monkeypatch.setattr(codefix.writer, "content_error", counting)
    good = USE_FIXED.encode()
    checked = FileChange(path="pkg/use.py", before=USE.encode(), after=good, checked=good)
    # A copy with other bytes (as `dataclasses.replace` of accepted hunks makes) keeps the old
    # `checked`: it is parsed, and refused.
    broken = dataclasses.replace(checked, after=USE_FIXED.replace("return", "return return").encode())
    outcome = write_changes(project, [broken], project / ".codefix" / "patches" / "x.patch")
    assert parsed == [broken.after] and outcome.written == ()
    assert "would not parse" in outcome.errors[0].message
    parsed.clear()
    outcome = write_changes(project, [checked], project / ".codefix" / "patches" / "y.patch")
    assert parsed == [] and [change.path for change in outcome.written] == ["pkg/use.py"]
    assert (project / "pkg/use.py").read_text() == USE_FIXED


def test_no_file_is_written_when_the_patch_cannot_be_saved(project: Path):
    write(with_factory(project), {"pkg/use.py": USE})
    before = snapshot(project)
    result = invoke("apply", *RULE, "--patch", project / "pyproject.toml" / "fix.patch", project, cwd=project)
    assert_one_error_line(result, "fix.patch", "no file was written")
    assert snapshot(project) == before


# --- bad configuration -----------------------------------------------------------------------

BAD_CODEFIX_TABLES = {
    "tool.codefix not a table": ('[tool]\ncodefix = 3\n', "tool.codefix"),
    "rule table not a table": ("[tool.codefix]\nawait-websocket = 1\n", "await-websocket"),
    "unknown key of a rule": ("[tool.codefix.await-sync]\nfunctions = []\n", "functions"),
    "factories not a list": ('[tool.codefix.clickhouse-async]\nfactories = "make_client"\n', "factories"),
    "async_methods with a number": ("[tool.codefix.clickhouse-async]\nasync_methods = [1]\n", "async_methods"),
    "known_markers not a list": ('[tool.codefix.pytest-markers]\nknown_markers = "slow"\n', "known_markers"),
    "duplicate key": ('[tool.codefix.await-websocket]\nfunctions = ["a"]\nfunctions = ["b"]\n', "TOML"),
    "unterminated string": ('[tool.codefix.await-websocket]\nreplacement = "open\n', "TOML"),
    "not UTF-8": (b'[project]\nname = "caf\xe9"\n', "pyproject.toml"),
}


def assert_one_error_line(result, *mentions: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: "), result.stderr
    for mention in mentions:
        assert mention in lines[0], (mention, lines[0])
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["scan", "apply"])
@pytest.mark.parametrize("name", list(BAD_CODEFIX_TABLES))
def test_bad_codefix_configuration_is_one_line_exit_2_and_writes_nothing(project: Path, command: str, name: str):
    table, key = BAD_CODEFIX_TABLES[name]
    write(with_factory(project), {"pkg/use.py": USE})
    header = b'[project]\nname = "example"\nversion = "0"\n\n'
    (project / "pyproject.toml").write_bytes(table if isinstance(table, bytes) else header + table.encode())
    before = snapshot(project)
    result = invoke(command, *RULE, project, cwd=project)
    assert_one_error_line(result, "pyproject.toml", key)
    assert snapshot(project) == before
    assert not (project / ".codefix").exists()


#: (A single string is not among them: pytest splits it into lines.)
MARKER_LISTS = {
    "a number, not a list": ("markers = 5\n", "markers"),
    "a number in the list": ('markers = ["slow: slow tests", 3]\n', "markers"),
    "a table": ("markers = { slow = 1 }\n", "markers"),
}


@pytest.mark.parametrize("name", list(MARKER_LISTS))
def test_a_pytest_marker_list_of_the_wrong_type_writes_nothing_and_names_file_and_key(project: Path, name: str):
    entry, key = MARKER_LISTS[name]
    write(project, {"tests/test_a.py": "import pytest\n\n\n@pytest.mark.fast\ndef test_a():\n    pass\n"})
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "0"\n\n[tool.pytest.ini_options]\n{entry}')
    before = snapshot(project)
    result = invoke("apply", "--rule", "pytest-markers", project, cwd=project)
    assert snapshot(project) == before
    assert "Traceback" not in result.output
    assert any("pyproject.toml" in line and key in line for line in result.output.splitlines()), result.output


@pytest.mark.parametrize("name", list(MARKER_LISTS))
def test_a_pytest_marker_list_of_the_wrong_type_is_exit_2(project: Path, name: str):
    """Issue 7: wrong types in the pytest marker list are a configuration error (exit 2)."""
    entry, key = MARKER_LISTS[name]
    write(project, {"tests/test_a.py": "import pytest\n\n\n@pytest.mark.fast\ndef test_a():\n    pass\n"})
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "0"\n\n[tool.pytest.ini_options]\n{entry}')
    result = invoke("apply", "--rule", "pytest-markers", project, cwd=project)
    assert_one_error_line(result, "pyproject.toml", key)


# --- security: scanned code is read, never run --------------------------------------------


def _booby_trapped(project: Path) -> Path:
    """A project whose code, if imported or run, leaves a file named after the module that ran."""
    trap = "import pathlib\npathlib.Path(__file__).with_name('RAN_' + __name__.replace('.', '_')).write_text('')\n"
    modules = ["typer", "rich", "libcst", "tomllib", "tomlkit", "pathspec", "difflib", "hashlib", "json"]
    write(with_factory(project), {f"{name}.py": trap for name in modules})
    write(
        project,
        {
            "pkg/use.py": USE,
            "pkg/side_effect.py": trap,
            "setup.py": trap,
            "sitecustomize.py": trap,
            "usercustomize.py": trap,
            "conftest.py": trap + "\n\ndef pytest_configure(config):\n    config.addinivalue_line('markers', 'fast: quick')\n",
            "tests/conftest.py": trap + "\npytest_plugins = ['pkg.side_effect']\n",
            "tests/test_a.py": trap + "\nimport pytest\n\n\n@pytest.mark.fast\n@pytest.mark.slow\ndef test_a():\n    pass\n",
        },
    )
    return project


def _ran(project: Path) -> list[str]:
    return sorted(p.name for p in project.rglob("RAN_*"))


COMMANDS = [("scan",), ("apply", *RULE), ("apply", "--rule", "pytest-markers"), ("scan", "--rule", "pytest-markers")]


@pytest.mark.slow
def test_the_console_script_never_imports_or_runs_scanned_code(project: Path):
    _booby_trapped(project)
    script = Path(sys.executable).parent / "codefix"
    if not script.exists():
        script = Path(shutil.which("codefix") or pytest.fail("the console script `codefix` is not installed"))
    for command in COMMANDS:
        completed = subprocess.run([str(script), *command, "."], cwd=project, capture_output=True, text=True, timeout=120)
        assert completed.returncode in (0, 1), completed.stderr
        assert _ran(project) == [], command
    assert (project / "pkg/use.py").read_text() == USE_FIXED


@pytest.mark.slow
def test_python_m_codefix_never_imports_or_runs_scanned_code(project: Path):
    """`python -m codefix` run inside the project must not import the project's `typer.py` for its own.

    Fails today: `python -m` puts the current folder first on sys.path, so a
    scanned project's `typer.py` or `rich.py` runs. See the report of issue 7
    for the two-line fix in src/codefix/__main__.py.
    """
    _booby_trapped(project)
    for command in COMMANDS:
        completed = run_process(*command, ".", cwd=project, timeout=120)
        assert _ran(project) == [], (command, completed.stderr[-500:])
        assert completed.code in (0, 1), completed.stderr


def test_pytest_configuration_and_conftest_markers_are_read_statically(project: Path):
    """The marker rule knows `fast` from conftest.py's pytest_configure without running it."""
    _booby_trapped(project)
    result = invoke("scan", "--format", "json", "--rule", "pytest-markers", project, cwd=project)
    assert _ran(project) == []
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert any("'slow'" in m for m in messages) and not any("'fast'" in m for m in messages), messages


# --- security: revert stays inside the project -----------------------------------------------


def _evil_patch(path: str, prefix: str = "a/") -> bytes:
    """A one-line change of `path` from x = 1 to x = 2, so reverting would write x = 1."""
    old, new = (f"{side}{path}".encode() for side in (prefix, prefix.replace("a", "b")))
    return b"--- " + old + b"\n+++ " + new + b"\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside the project holding what the evil patches' new side says."""
    path = tmp_path / "victim.py"
    path.write_text("x = 2\n")
    return path


def _assert_refused(project: Path, data: bytes, victim: Path, mention: str) -> None:
    (project / "inside.py").write_text("x = 2\n")
    good = _evil_patch("inside.py")  # a valid entry too: a refusal must revert nothing at all
    patch = project / "evil.patch"
    patch.write_bytes(good + data)
    before = snapshot(project)
    result = invoke("revert", "--root", project, patch, cwd=project)
    assert result.exit_code == 1, result.output
    assert mention in result.stderr and "Traceback" not in result.output
    assert victim.read_text() == "x = 2\n"
    assert snapshot(project) == before


@pytest.mark.parametrize("prefix", ["", "a/"])
def test_revert_refuses_an_absolute_path(project: Path, victim: Path, prefix: str):
    """Both `--- /abs/victim.py` and `--- a//abs/victim.py` name the file outside."""
    _assert_refused(project, _evil_patch(str(victim), prefix), victim, "victim.py")


@pytest.mark.parametrize("climb", ["../victim.py", "pkg/../../victim.py", "./../victim.py"])
def test_revert_refuses_paths_that_climb_out(project: Path, victim: Path, climb: str):
    (project / "pkg").mkdir()
    _assert_refused(project, _evil_patch(climb), victim, "victim.py")


def test_revert_refuses_a_path_no_file_can_have(project: Path, victim: Path):
    """Found by the damaged-patch property: a NUL byte in a path made revert crash."""
    _assert_refused(project, _evil_patch("pkg/nul\x00.py"), victim, "pkg/nul")


def test_revert_refuses_a_symlinked_file_leading_outside(project: Path, victim: Path):
    (project / "linked.py").symlink_to(victim)
    _assert_refused(project, _evil_patch("linked.py"), victim, "linked.py")


def test_revert_refuses_a_path_through_a_symlinked_folder_leading_outside(project: Path, victim: Path):
    (project / "elsewhere").symlink_to(victim.parent, target_is_directory=True)
    _assert_refused(project, _evil_patch("elsewhere/victim.py"), victim, "elsewhere/victim.py")


def test_revert_refuses_an_interrupted_runs_journal_naming_a_path_outside(project: Path, victim: Path):
    """A journal's pending record is checked like any other entry."""
    from codefix.patch import journal_header, pending_record
    from codefix.types import FileChange

    record = pending_record(FileChange(path="../victim.py", before=b"x = 1\n", after=b"x = 2\n"))
    _assert_refused(project, journal_header() + record, victim, "victim.py")


def test_revert_writes_through_a_symlink_inside_the_project_and_keeps_the_link(project: Path):
    write(with_factory(project), {"pkg/real.py": USE})
    (project / "pkg/alias.py").symlink_to("real.py")
    invoke("apply", *RULE, project, cwd=project)
    [patch] = patches(project)
    data = patch.read_bytes().replace(b"pkg/real.py", b"pkg/alias.py")
    patch.write_bytes(data)
    result = invoke("revert", patch, cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "pkg/alias.py").is_symlink()
    assert (project / "pkg/real.py").read_text() == USE


def test_a_revert_that_fails_half_way_says_so_and_is_finished_by_running_it_again(project: Path, monkeypatch):
    write(with_factory(project), {f"pkg/m{n}.py": USE for n in range(4)})
    original = snapshot(project)
    invoke("apply", *RULE, project, cwd=project)
    [patch] = patches(project)
    real_replace = os.replace

    def replace(source, destination):
        if Path(destination).name == "m2.py":
            raise OSError(28, "No space left on device")
        return real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    failed = invoke("revert", patch, cwd=project)
    monkeypatch.undo()
    assert failed.exit_code == 1
    [line] = failed.stderr.strip().splitlines()
    assert "m2.py: cannot write: No space left on device; 2 of 4 files reverted" in line and "run revert again" in line
    finished = invoke("revert", patch, cwd=project)
    assert finished.exit_code == 0, finished.output
    assert snapshot(project) == original
    twice = invoke("revert", patch, cwd=project)
    assert twice.exit_code == 1 and "already holds its bytes from before the patch" in twice.stderr
    assert snapshot(project) == original


# --- pathological input ------------------------------------------------------------------------

SITE = "\n\nasync def site(ctx):\n    return await get_websocket_manager(ctx)\n"
HEADER = "from pkg.ws import get_websocket_manager\n\n"
DEPTH = 500
PATHOLOGICAL = {
    "parens": "x = " + "(" * DEPTH + "1" + ")" * DEPTH + "\n",
    "lists": "x = " + "[" * DEPTH + "1" + "]" * DEPTH + "\n",
    "calls": "x = " + "f(" * DEPTH + "1" + ")" * DEPTH + "\n",
    "unary": "x = " + "-" * DEPTH + "1\n",
    "not": "x = " + "not " * DEPTH + "y\n",
    "binary": "x = " + " + ".join(["a"] * DEPTH) + "\n",
    "awaits": "async def many(ctx):\n    return " + " + ".join(["await get_websocket_manager(ctx)"] * DEPTH) + "\n",
    "attributes": "x = a" + ".b" * DEPTH + "\n",
    "subscripts": "x = a" + "[0]" * DEPTH + "\n",
    "lambdas": "x = " + "lambda: " * DEPTH + "1\n",
    "conditionals": "x = " + "1 if a else " * DEPTH + "2\n",
    "strings": "x = " + " ".join(['"a"'] * DEPTH * 10) + "\n",
    "blocks": "".join("    " * i + f"if x{i}:\n" for i in range(DEPTH // 5)) + "    " * (DEPTH // 5) + "pass\n",
    "lines_50000": "".join(f"value_{i} = {i}\n" for i in range(50_000)),
}


@pytest.mark.slow
def test_pathological_files_are_an_error_or_a_result_in_bounded_time_and_memory(project: Path):
    files = {f"pkg/odd_{name}.py": HEADER + body + SITE for name, body in PATHOLOGICAL.items()}
    write(with_factory(project), {"pkg/use.py": USE, **files})
    completed = run_process("apply", *RULE, "--no-cache", ".", cwd=project, timeout=150)
    print(f"pathological files: apply took {completed.seconds:.1f} s, peak memory {completed.peak_mb:.0f} MB")
    assert completed.code in (0, 1), completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    assert completed.peak_mb < 2048
    assert (project / "pkg/use.py").read_text() == USE_FIXED
    for relative, text in files.items():
        after = (project / relative).read_text()
        if after == text:
            # Not fixed: then the file is listed, with an error or with the findings left in it.
            assert f"\n{relative}:" in "\n" + completed.stdout, relative
        else:
            assert after == text.replace("await get_websocket_manager(ctx)", "get_websocket_manager(ctx)"), relative
            ast.parse(after)


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        (b"\n" * 30_000, False),
        (b"\n" * 30_001, True),
        (b"\r" * 30_001, True),
        (b"\r\n" * 30_000, False),
        (b"\r\n" * 30_000 + b"x", True),
        (b"x" * 29_999, False),
        (b"#" * 2_000_001, True),
    ],
    ids=["lf-at-limit", "lf-over", "cr-over", "crlf-at-limit", "crlf-unterminated-over", "one-long-line", "bytes-over"],
)
def test_the_size_limits_hold_at_their_boundaries(raw: bytes, refused: bool):
    from codefix.sourcefile import MAX_SOURCE_LINES, SourceError, check_size

    assert MAX_SOURCE_LINES == 30_000
    if refused:
        with pytest.raises(SourceError, match="too large to analyse"):
            check_size(raw)
    else:
        check_size(raw)


def test_the_encoding_is_the_tokenizers_also_where_it_is_not_asked():
    """The shortcut for files without a cookie or BOM agrees with `tokenize.detect_encoding` on any bytes."""
    import codecs
    import io
    import random
    import tokenize

    from codefix.sourcefile import SourceError, detect_encoding

    def tokenizers(raw: bytes) -> str:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
            return codecs.lookup(encoding).name if encoding != "utf-8-sig" else encoding
        except (SyntaxError, LookupError):
            return "refused"

    def ours(raw: bytes) -> str:
        try:
            return detect_encoding(raw)
        except SourceError:
            return "refused"

    pieces = [b"x = 1", b"\n", b"\r", b"\r\n", b"# -*- coding: latin-1 -*-", b"# coding=bogus", b"coding", b"\xe9", b"\xc3\xa9", b"\xef\xbb\xbf", b"#", b" "]
    generator = random.Random(5)
    samples = [b"".join(generator.choice(pieces) for _ in range(generator.randint(0, 8))) for _ in range(20_000)]
    verdicts = {tokenizers(raw) for raw in samples}
    assert {"utf-8", "iso8859-1", "utf-8-sig", "refused"} <= verdicts
    for raw in samples:
        assert ours(raw) == tokenizers(raw), raw
