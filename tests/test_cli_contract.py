"""The command-line contract of issue 2: exit codes, output formats, patches, revert.

Users' scripts and our own checks rely on these exact spellings, so each test
states one promise of the contract. Most run codefix in-process (typer's test
runner drives the same `app` the console script runs); the tests of the entry
points, of terminal colour and of tracebacks run real processes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codefix.rules import ALL_RULES, RULES_BY_ID
from conftest import BROKEN_WITH_A_SITE, FACTORY, USE, USE_FIXED, assert_parses, git, invoke, run_codefix, run_in_terminal, snapshot, write


DELIBERATE = (
    "import pytest\n"
    "\n"
    "from pkg.ws import get_websocket_manager\n"
    "\n"
    "\n"
    "async def test_awaiting_fails():\n"
    "    with pytest.raises(TypeError):\n"
    "        await get_websocket_manager()\n"
)






def with_findings(project: Path) -> Path:
    return write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": USE})


def assert_one_line_error(result, *mentions: str) -> None:
    """A usage or configuration error: exit 2, one line on stderr naming the culprit, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codefix: error: "), lines[0]
    for mention in mentions:
        assert mention in lines[0], (mention, lines[0])
    assert result.stdout == ""
    assert "Traceback" not in result.output


# --- scan exit codes ----------------------------------------------------------------


def test_scan_exits_0_when_there_is_nothing_to_report(project: Path):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": USE_FIXED})
    result = invoke("scan", project, cwd=project)
    assert result.exit_code == 0, result.output
    assert "Found 0 findings" in result.stdout


def test_scan_exits_1_on_findings(project: Path):
    result = invoke("scan", with_findings(project), cwd=project)
    assert result.exit_code == 1
    assert "pkg/use.py:5:12: await-websocket " in result.stdout


def test_scan_exit_zero_reports_but_exits_0(project: Path):
    result = invoke("scan", "--exit-zero", with_findings(project), cwd=project)
    assert result.exit_code == 0
    assert "pkg/use.py:5:12: await-websocket " in result.stdout


def test_scan_path_defaults_to_the_current_folder(project: Path):
    with_findings(project)
    result = invoke("scan", "--format", "json", cwd=project / "pkg")
    assert result.exit_code == 1
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/use.py"]


@pytest.mark.parametrize("command", ["scan", "apply"])
def test_unknown_rule_is_one_clear_line_and_exit_2(project: Path, command: str):
    with_findings(project)
    before = snapshot(project)
    result = invoke(command, "--rule", "await-websockets", project, cwd=project)
    assert_one_line_error(result, "await-websockets")
    assert snapshot(project) == before


BAD_CONFIGURATIONS = {
    "unknown option": ('[tool.codefix.await-websocket]\nfuntions = ["get_websocket_manager"]\n', "funtions"),
    "unknown rule table": ("[tool.codefix.await-websockets]\nfunctions = []\n", "await-websockets"),
    "functions not a list": ('[tool.codefix.await-websocket]\nfunctions = "get_websocket_manager"\n', "functions"),
    "replacement not a string": ("[tool.codefix.await-websocket]\nreplacement = 3\n", "replacement"),
    "invalid TOML": ("[tool.codefix.await-websocket\nfunctions = [\n", "TOML"),
}


@pytest.mark.parametrize("command", ["scan", "apply"])
@pytest.mark.parametrize("name", list(BAD_CONFIGURATIONS))
def test_bad_configuration_is_one_clear_line_and_exit_2(project: Path, command: str, name: str):
    table, key = BAD_CONFIGURATIONS[name]
    with_findings(project)
    (project / "pyproject.toml").write_text('[project]\nname = "example"\nversion = "0"\n\n' + table)
    before = snapshot(project)
    result = invoke(command, "--rule", "await-websocket", project, cwd=project)
    assert_one_line_error(result, "pyproject.toml", key)
    assert snapshot(project) == before


@pytest.mark.parametrize("command", ["scan", "apply"])
def test_a_path_that_does_not_exist_is_exit_2(project: Path, command: str):
    with_findings(project)
    result = invoke(command, "--rule", "await-websocket", project / "no_such_folder", cwd=project)
    assert_one_line_error(result, "no_such_folder")


def test_a_bad_option_value_is_a_usage_error_without_traceback(project: Path):
    result = invoke("scan", "--format", "yaml", with_findings(project), cwd=project)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- apply exit codes ----------------------------------------------------------------


def test_apply_exits_0_when_every_finding_was_fixed(project: Path):
    result = invoke("apply", "--rule", "await-websocket", with_findings(project), cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "pkg/use.py").read_text() == USE_FIXED


def test_apply_exits_1_when_findings_remain_and_reports_them(project: Path):
    write(with_findings(project), {"tests/test_use.py": DELIBERATE})
    result = invoke("apply", "--rule", "await-websocket", project, cwd=project)
    assert result.exit_code == 1
    assert (project / "pkg/use.py").read_text() == USE_FIXED
    assert (project / "tests/test_use.py").read_text() == DELIBERATE
    assert "tests/test_use.py:8:9: await-websocket " in result.stdout


def test_apply_exit_non_zero_on_fix(project: Path):
    with_findings(project)
    changed = invoke("apply", "--rule", "await-websocket", "--exit-non-zero-on-fix", project, cwd=project)
    assert changed.exit_code == 1, "a file was changed"
    unchanged = invoke("apply", "--rule", "await-websocket", "--exit-non-zero-on-fix", project, cwd=project)
    assert unchanged.exit_code == 0, "nothing left to change"


def test_apply_requires_a_rule(project: Path):
    """The contract spells `codefix apply [PATH ...] --rule ID [--rule ID ...]`: --rule is not optional."""
    with_findings(project)
    before = snapshot(project)
    result = invoke("apply", project, cwd=project)
    assert result.exit_code == 2, result.output
    assert "--rule" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(project) == before


# --- JSON output ----------------------------------------------------------------------


def test_json_schema(project: Path):
    write(with_findings(project), {"pkg/broken.py": BROKEN_WITH_A_SITE})
    result = invoke("scan", "--format", "json", project, cwd=project)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert set(document) == {"version", "findings", "errors"}
    assert document["version"] == 1
    [finding] = document["findings"]
    assert set(finding) == {"rule", "path", "line", "col", "end_line", "end_col", "message", "fixable"}
    assert finding["rule"] == "await-websocket"
    assert finding["path"] == "pkg/use.py"
    assert finding["fixable"] is True
    assert isinstance(finding["message"], str) and "get_websocket_manager" in finding["message"]
    # 1-based: `await` starts at the 12th character of line 5, the call ends with the line.
    line = USE.splitlines()[finding["line"] - 1]
    assert (finding["line"], finding["col"], finding["end_line"]) == (5, 12, 5)
    assert line[finding["col"] - 1 : finding["end_col"] - 1] == "await get_websocket_manager(ctx)"
    assert finding["end_col"] == len(line) + 1
    [error] = document["errors"]
    assert set(error) == {"path", "message"}
    assert error["path"] == "pkg/broken.py"
    assert "syntax error" in error["message"]


@pytest.mark.parametrize("target", ["pkg/sub", "pkg/sub/use.py"])
def test_json_paths_are_relative_to_the_root_found_from_the_path(project: Path, tmp_path: Path, target: str):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/sub/__init__.py": "", "pkg/sub/use.py": USE})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = invoke("scan", "--format", "json", project / target, cwd=elsewhere)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/sub/use.py"]


def test_the_root_is_the_nearest_folder_with_pyproject_or_git(project: Path):
    inner = project / "services" / "chat"
    (inner / ".git").mkdir(parents=True)
    with_findings(inner)
    result = invoke("scan", "--format", "json", inner / "pkg", cwd=project)
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/use.py"]


def test_unreadable_inputs_are_errors_and_the_run_goes_on(project: Path):
    write(
        with_findings(project),
        {
            "pkg/broken.py": "async def broken(ctx)\n    return await get_websocket_manager(ctx)\n",
            "pkg/cookie.py": b"# -*- coding: no-such-codec -*-\nx = 1\n",
            "pkg/binary.py": b"x = '\xff\xfe'\n",
        },
    )
    result = invoke("scan", "--format", "json", project, cwd=project)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert sorted(e["path"] for e in document["errors"]) == ["pkg/binary.py", "pkg/broken.py", "pkg/cookie.py"]
    assert [f["path"] for f in document["findings"]] == ["pkg/use.py"]
    applied = invoke("apply", "--rule", "await-websocket", project, cwd=project)
    assert (project / "pkg/use.py").read_text() == USE_FIXED
    assert "pkg/broken.py: error: " in applied.stdout
    assert "Traceback" not in applied.output


# --- text output ----------------------------------------------------------------------


def test_text_output_is_path_line_col_id_message_grouped_by_file(project: Path):
    write(
        with_findings(project),
        {"pkg/more.py": USE + "\n\nasync def again(ctx):\n    return await get_websocket_manager(ctx)\n", "tests/test_use.py": DELIBERATE},
    )
    document = json.loads(invoke("scan", "--format", "json", project, cwd=project).stdout)
    text = invoke("scan", project, cwd=project).stdout
    assert "\x1b[" not in text, "plain when not a terminal"
    lines = [line for line in text.splitlines() if line]
    finding_lines = [line for line in lines if re.match(r"^[^:]+:\d+:\d+: ", line)]
    expected = [
        f"{f['path']}:{f['line']}:{f['col']}: {f['rule']} {f['message']}" + (" [*]" if f["fixable"] else "")
        for f in document["findings"]
    ]
    assert finding_lines == expected
    paths = [line.split(":")[0] for line in finding_lines]
    assert paths == sorted(paths, key=paths.index), "grouped by file"
    assert len(set(paths)) == 3
    assert lines[-1].startswith("Found 4 findings in 3 files")


def test_rules_lists_every_rule_and_its_default(project: Path):
    result = invoke("rules", cwd=project)
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line.split()[:1] and line.split()[0] in RULES_BY_ID}
    assert rows == {rule.id: "on" if rule.default_enabled else "off" for rule in ALL_RULES}
    assert {"await-websocket", "await-sync"} <= set(rows)


@pytest.mark.parametrize("rule", ["await-websocket", "await-sync"])
def test_explain_prints_the_five_headings(project: Path, rule: str):
    result = invoke("explain", rule, cwd=project)
    assert result.exit_code == 0
    positions = [
        result.stdout.index(heading)
        for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
    ]
    assert positions == sorted(positions)
    assert "```python" in result.stdout and "await" in result.stdout


def test_explain_of_an_unknown_rule_is_exit_2(project: Path):
    assert_one_line_error(invoke("explain", "await-websockets", cwd=project), "await-websockets")


# --- patches and revert ------------------------------------------------------------------


def test_apply_saves_a_patch_under_codefix_patches_named_by_utc_time(project: Path):
    with_findings(project)
    started = dt.datetime.now(dt.timezone.utc)
    result = invoke("apply", "--rule", "await-websocket", project, cwd=project)
    [patch] = (project / ".codefix" / "patches").iterdir()
    match = re.fullmatch(r"(\d{8}T\d{6})(?:\.\d+)?Z(?:-\d+)?\.patch", patch.name)
    assert match, patch.name
    stamp = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
    assert abs(stamp - started) < dt.timedelta(minutes=2)
    assert str(patch) in result.stdout
    data = patch.read_text()
    assert "\n--- a/pkg/use.py\n+++ b/pkg/use.py\n" in data
    assert "-    return await get_websocket_manager(ctx)\n+    return get_websocket_manager(ctx)\n" in data


def test_every_apply_keeps_its_own_patch(project: Path):
    with_findings(project)
    write(project, {"pkg/other.py": USE})
    invoke("apply", "--rule", "await-websocket", project / "pkg/use.py", cwd=project)
    invoke("apply", "--rule", "await-websocket", project / "pkg/other.py", cwd=project)
    patches = sorted((project / ".codefix" / "patches").iterdir())
    assert len(patches) == 2
    assert ["pkg/use.py" in p.read_text() for p in patches] == [True, False]


def test_patch_option_without_dry_run(project: Path):
    with_findings(project)
    git("init", "-q", ".", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "before", cwd=project)
    before = snapshot(project)
    result = invoke("apply", "--rule", "await-websocket", "--patch", "reviews/fix.patch", "pkg", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "pkg/use.py").read_text() == USE_FIXED
    assert (project / "reviews/fix.patch").is_file()
    assert not (project / ".codefix" / "patches").exists()
    assert "reviews/fix.patch" in result.stdout
    git("apply", "-R", "reviews/fix.patch", cwd=project)
    restored = snapshot(project)
    del restored["reviews/fix.patch"]
    assert restored == before


def test_patch_option_with_dry_run_writes_only_the_patch(project: Path, tmp_path: Path):
    write(with_findings(project), {"tests/test_use.py": DELIBERATE, "pkg/crlf.py": USE.replace("\n", "\r\n").encode()})
    before = snapshot(project)
    patch = tmp_path / "out" / "fix.patch"
    result = invoke("apply", "--rule", "await-websocket", "--dry-run", "--patch", patch, project, cwd=project)
    assert snapshot(project) == before, "sources untouched"
    assert not (project / ".codefix").exists()
    assert "diff --git a/pkg/use.py b/pkg/use.py" in result.stdout
    # The patch applies forward to the untouched tree and gives what a real apply gives.
    real = tmp_path / "real"
    shutil.copytree(project, real)
    invoke("apply", "--rule", "await-websocket", real, cwd=real)
    git("init", "-q", ".", cwd=project)
    git("apply", str(patch), cwd=project)
    assert snapshot(project) == snapshot(real)
    for path in ("pkg/use.py", "pkg/crlf.py"):
        assert_parses(project / path)


def test_revert_of_a_dry_run_patch_refuses(project: Path, tmp_path: Path):
    with_findings(project)
    patch = tmp_path / "fix.patch"
    invoke("apply", "--rule", "await-websocket", "--dry-run", "--patch", patch, project, cwd=project)
    before = snapshot(project)
    result = invoke("revert", patch, cwd=project)
    assert result.exit_code == 1
    assert "pkg/use.py" in result.stderr
    assert snapshot(project) == before


def test_revert_refuses_when_a_patched_file_was_deleted(project: Path):
    with_findings(project)
    write(project, {"pkg/other.py": USE})
    invoke("apply", "--rule", "await-websocket", project, cwd=project)
    [patch] = (project / ".codefix" / "patches").iterdir()
    (project / "pkg/use.py").unlink()
    before = snapshot(project)
    result = invoke("revert", patch, cwd=project)
    assert result.exit_code == 1
    assert "pkg/use.py" in result.stderr
    assert snapshot(project) == before, "pkg/other.py was not reverted either"


def test_revert_of_a_missing_patch_file_is_one_line(project: Path):
    result = invoke("revert", project / "nowhere.patch", cwd=project)
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nowhere.patch" in result.stderr
    assert "Traceback" not in result.output


def test_apply_keeps_permissions_and_leaves_no_stray_files(project: Path):
    with_findings(project)
    script = project / "pkg/use.py"
    script.chmod(0o750)
    invoke("apply", "--rule", "await-websocket", project, cwd=project)
    assert script.read_text() == USE_FIXED
    assert script.stat().st_mode & 0o7777 == 0o750
    names = [p.name for p in project.rglob("*") if ".codefix" not in p.parts]
    assert not [n for n in names if n.endswith((".codefix-tmp", ".backup", ".orig", ".rej", ".bak"))], names


# --- real processes -----------------------------------------------------------------------


def _console_script() -> Path:
    script = Path(sys.executable).parent / "codefix"
    if not script.exists():
        found = shutil.which("codefix")
        assert found, "the console script `codefix` is not installed"
        script = Path(found)
    return script


@pytest.mark.slow
def test_python_m_codefix_and_the_console_script_agree(project: Path):
    with_findings(project)
    module = run_codefix("scan", "--format", "json", ".", cwd=project)
    environment = {**os.environ, "NO_COLOR": "1"}
    script = subprocess.run(
        [str(_console_script()), "scan", "--format", "json", "."],
        cwd=project, capture_output=True, text=True, env=environment, timeout=300,
    )
    assert module.code == script.returncode == 1
    assert json.loads(module.stdout) == json.loads(script.stdout)
    assert json.loads(module.stdout)["findings"][0]["path"] == "pkg/use.py"
    version = run_codefix("--version", cwd=project)
    assert version.code == 0 and version.stdout.startswith("codefix ")


@pytest.mark.slow
def test_bad_input_never_shows_a_traceback(project: Path):
    write(
        with_findings(project),
        {"pkg/broken.py": "def broken(:\n", "pkg/nul.py": b"x = 1\x00\n", "pkg/cookie.py": b"# coding: nope\n"},
    )
    for args in (("scan", "."), ("apply", "--rule", "await-websocket", "."), ("scan", "--rule", "nope"), ("revert", "x.patch")):
        completed = run_codefix(*args, cwd=project)
        assert "Traceback" not in completed.stderr + completed.stdout, args
        assert completed.code in (0, 1, 2), args
    (project / "pyproject.toml").write_text("[tool.codefix]\nawait-websocket = 1\n")
    completed = run_codefix("scan", ".", cwd=project)
    assert completed.code == 2
    assert len(completed.stderr.strip().splitlines()) == 1 and "Traceback" not in completed.stderr


@pytest.mark.slow
def test_the_diff_is_coloured_on_a_terminal_and_plain_when_piped(project: Path):
    with_findings(project)
    terminal = run_in_terminal(["apply", "--rule", "await-websocket", "--dry-run", "."], project)
    assert "\x1b[" in terminal
    assert "get_websocket_manager(ctx)" in terminal
    environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    piped = subprocess.run(
        [sys.executable, "-m", "codefix", "apply", "--rule", "await-websocket", "--dry-run", "."],
        cwd=project, capture_output=True, text=True, env={**environment, "TERM": "xterm-256color"}, timeout=300,
    )
    assert "\x1b[" not in piped.stdout + piped.stderr
    assert "-    return await get_websocket_manager(ctx)\n+    return get_websocket_manager(ctx)\n" in piped.stdout
    assert (project / "pkg/use.py").read_text() == USE


# --- patch round trips on awkward shapes ---------------------------------------------------

_LINES = b"".join(b"line %d\n" % n for n in range(1, 21))
PATCH_SHAPES = {
    "middle line": (_LINES, _LINES.replace(b"line 10\n", b"line ten\n")),
    "first line": (_LINES, _LINES.replace(b"line 1\n", b"line one\n", 1)),
    "last line without newline": (_LINES + b"tail", _LINES + b"tail changed"),
    "final newline added": (_LINES + b"tail", _LINES + b"tail\n"),
    "final newline removed": (_LINES, _LINES[:-1]),
    "two hunks": (_LINES, _LINES.replace(b"line 2\n", b"").replace(b"line 19\n", b"line 19\nnew\n")),
    "everything removed": (_LINES, b""),
    "empty before": (b"", _LINES),
    "crlf": (_LINES.replace(b"\n", b"\r\n"), _LINES.replace(b"\n", b"\r\n").replace(b"line 5", b"line five")),
    "content that looks like diff syntax": (
        b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n\\ No newline\nkeep\n",
        b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n\\ No newline\nchanged\n",
    ),
    "latin-1 bytes": (b"# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n", b"# -*- coding: latin-1 -*-\nx = 'caf\xe9!'\n"),
}


@pytest.mark.parametrize("shape", list(PATCH_SHAPES))
def test_patches_are_undone_by_git_and_by_revert(project: Path, shape: str):
    from codefix.patch import make_patch
    from codefix.types import FileChange

    before, after = PATCH_SHAPES[shape]
    names = ["pkg/data file.py", "pkg/other.py"]
    for name in names:
        write(project, {name: before})
    git("init", "-q", ".", cwd=project)
    git("-c", "core.autocrlf=false", "add", "-A", cwd=project)
    git("-c", "core.autocrlf=false", "commit", "-q", "-m", "before", cwd=project)
    for name in names:
        write(project, {name: after})
    patch = project / "change.patch"
    patch.write_bytes(make_patch([FileChange(path=name, before=before, after=after) for name in names], title=shape))
    edited = snapshot(project)
    git("apply", "-R", "--check", "change.patch", cwd=project)
    result = invoke("revert", "--root", project, patch, cwd=project)
    assert result.exit_code == 0, result.output
    assert all((project / name).read_bytes() == before for name in names)
    for name in names:
        write(project, {name: after})
    assert snapshot(project) == edited
    git("apply", "-R", "change.patch", cwd=project)
    assert all((project / name).read_bytes() == before for name in names)


def test_revert_refuses_paths_outside_the_project(project: Path):
    outside = project.parent / "outside.py"
    outside.write_text("x = 2\n")
    patch = project / "evil.patch"
    patch.write_text("--- a/../outside.py\n+++ b/../outside.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    result = invoke("revert", "--root", project, patch, cwd=project)
    assert result.exit_code == 1
    assert "outside.py" in result.stderr
    assert outside.read_text() == "x = 2\n"


# --- usage errors from the option parser --------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "mention"),
    [
        (("scan", "--format", "yaml", "."), "--format"),
        (("scan", "--no-such-flag"), "--no-such-flag"),
        (("no-such-command",), "no-such-command"),
    ],
)
def test_parser_usage_errors_are_one_line_and_exit_2(project: Path, args, mention):
    completed = run_codefix(*args, cwd=project)
    assert completed.code == 2, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: "), completed.stderr
    assert mention in lines[0]
    assert "Traceback" not in completed.stderr
