"""Report flags of `scan` and `apply`: --statistics, --diff, --show-fixes, --no-color/NO_COLOR, --quiet, --verbose.

Each test compares a flag's output with an independent account of the same
run (the JSON report, the files on disk, a run without the flag), so a flag
that printed plausible text unrelated to the run would fail.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codefix.cli import app
from codefix.formats import statistics
from codefix.rules import RULES_BY_ID
from codefix.types import Finding
from conftest import BROKEN_WITH_A_SITE, FACTORY_WITH_SETTINGS, USE_WITH_SETTINGS, invoke, snapshot, write

FACTORY = FACTORY_WITH_SETTINGS
USE = USE_WITH_SETTINGS
MORE = "from pkg.ws import get_websocket_manager\n\n\nasync def again(ctx):\n    return await get_websocket_manager(ctx)\n"
UNBOUND = "async def other(ctx):\n    return await get_websocket_manager(ctx)\n"
RULES = ("--rule", "await-websocket", "--rule", "await-sync")


def with_findings(root: Path) -> Path:
    """await-websocket: 2 fixable + 1 not (unbound name); await-sync: 1 fixable."""
    return write(
        root,
        {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": USE, "pkg/more.py": MORE, "pkg/unbound.py": UNBOUND},
    )


def json_findings(root: Path) -> list[dict]:
    return json.loads(invoke("scan", "--format", "json", *RULES, root, cwd=root).stdout)["findings"]


# --- --statistics ---------------------------------------------------------------------


def test_statistics_count_each_rule_like_ruff(project: Path):
    with_findings(project)
    result = invoke("scan", "--statistics", *RULES, project, cwd=project)
    assert result.exit_code == 1
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    expected = Counter(f["rule"] for f in json_findings(project))
    assert [(int(count), rule.strip()) for count, rule, _ in rows] == [(3, "await-websocket"), (1, "await-sync")]
    assert {rule.strip(): int(count) for count, rule, _ in rows} == expected
    for _, rule, rest in rows:
        assert rest == f"[*] {RULES_BY_ID[rule.strip()].summary}"
    assert "Found" not in result.stdout


def test_statistics_mark_rules_without_any_fixable_finding():
    findings = [
        Finding("async-context", "a.py", 1, 1, 1, 2, "m", False),
        Finding("async-context", "b.py", 1, 1, 1, 2, "m", False),
        Finding("await-sync", "a.py", 2, 1, 2, 2, "m", True),
    ]
    lines = statistics.render_text(findings).splitlines()
    assert lines == [
        f"2\tasync-context\t[ ] {RULES_BY_ID['async-context'].summary}",
        f"1\tawait-sync   \t[*] {RULES_BY_ID['await-sync'].summary}",
    ]


def test_statistics_as_json(project: Path):
    with_findings(project)
    write(project, {"pkg/broken.py": BROKEN_WITH_A_SITE})
    result = invoke("scan", "--statistics", "--format", "json", *RULES, project, cwd=project)
    document = json.loads(result.stdout)
    assert document["version"] == 1
    assert document["statistics"] == [
        {"rule": "await-websocket", "count": 3, "fixable": 2, "summary": RULES_BY_ID["await-websocket"].summary},
        {"rule": "await-sync", "count": 1, "fixable": 1, "summary": RULES_BY_ID["await-sync"].summary},
    ]
    assert [e["path"] for e in document["errors"]] == ["pkg/broken.py"]


def test_statistics_of_a_clean_project_print_nothing_and_exit_0(project: Path):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY})
    result = invoke("scan", "--statistics", project, cwd=project)
    assert (result.exit_code, result.stdout) == (0, "")


@pytest.mark.parametrize("fmt", ["github", "sarif", "junit"])
def test_statistics_in_a_ci_format_is_a_usage_error(project: Path, fmt: str):
    result = invoke("scan", "--statistics", "--format", fmt, with_findings(project), cwd=project)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["codefix: error: --statistics works with --format text or json"]
    assert result.stdout == ""


# --- --diff ---------------------------------------------------------------------------


def test_diff_is_dry_run(project: Path):
    with_findings(project)
    before = snapshot(project)
    dry = invoke("apply", *RULES, "--dry-run", project, cwd=project)
    diff = invoke("apply", *RULES, "--diff", project, cwd=project)
    assert (diff.exit_code, diff.stdout, diff.stderr) == (dry.exit_code, dry.stdout, dry.stderr)
    assert "+    return get_websocket_manager(ctx)" in diff.stdout
    assert snapshot(project) == before


# --- --show-fixes ---------------------------------------------------------------------


def test_show_fixes_after_apply_lists_what_was_rewritten(project: Path):
    with_findings(project)
    result = invoke("apply", *RULES, "--show-fixes", project, cwd=project)
    tail = result.stdout[result.stdout.index("Fixed 3 findings:") :]
    assert tail == (
        "Fixed 3 findings:\n"
        "- pkg/more.py:\n"
        "    1 × await-websocket\n"
        "- pkg/use.py:\n"
        "    1 × await-sync\n"
        "    1 × await-websocket\n"
    )
    # What it lists is what happened on disk.
    assert "await" not in (project / "pkg/more.py").read_text().split("def again", 1)[1].replace("async def", "")
    assert "await load_settings" not in (project / "pkg/use.py").read_text()
    assert "pkg/unbound.py" not in tail


def test_show_fixes_of_a_dry_run_says_would_fix(project: Path):
    with_findings(project)
    before = snapshot(project)
    result = invoke("apply", *RULES, "--diff", "--show-fixes", project, cwd=project)
    assert "Would fix 3 findings:\n- pkg/more.py:\n" in result.stderr
    assert snapshot(project) == before


def test_show_fixes_of_scan_lists_only_fixable_findings(project: Path):
    with_findings(project)
    result = invoke("scan", *RULES, "--show-fixes", project, cwd=project)
    fixable = [f for f in json_findings(project) if f["fixable"]]
    listed = result.stdout[result.stdout.index("`codefix apply` would fix") :]
    assert listed.startswith(f"`codefix apply` would fix {len(fixable)} findings:\n")
    assert "pkg/unbound.py" not in listed


def test_show_fixes_when_nothing_is_fixable(project: Path):
    write(project, {"pkg/__init__.py": "", "pkg/unbound.py": UNBOUND})
    result = invoke("scan", "--rule", "await-websocket", "--show-fixes", project, cwd=project)
    assert result.stdout.endswith("`codefix apply` would fix no findings.\n")


def test_show_fixes_beside_a_machine_format_goes_to_stderr(project: Path):
    with_findings(project)
    result = invoke("scan", *RULES, "--format", "json", "--show-fixes", project, cwd=project)
    assert json.loads(result.stdout)["findings"]
    assert "`codefix apply` would fix 3 findings:" in result.stderr


# --- --quiet and --verbose ------------------------------------------------------------


def test_quiet_scan_prints_findings_and_errors_only(project: Path):
    with_findings(project)
    write(project, {"pkg/broken.py": BROKEN_WITH_A_SITE})
    loud = invoke("scan", *RULES, project, cwd=project)
    quiet = invoke("scan", *RULES, "--quiet", project, cwd=project)
    assert quiet.exit_code == loud.exit_code == 1
    assert loud.stdout.splitlines()[-1].startswith("Found 4 findings")
    assert quiet.stdout == loud.stdout[: loud.stdout.rindex("Found 4 findings")]
    assert "pkg/broken.py: error: " in quiet.stdout


def test_quiet_apply_writes_but_prints_no_summary(project: Path):
    with_findings(project)
    result = invoke("apply", *RULES, "-q", project, cwd=project)
    assert result.exit_code == 1  # the unbound name remains
    assert "Fixed" not in result.output and "Found" not in result.output
    assert result.stdout.startswith("pkg/unbound.py:2:12: await-websocket ")
    assert "await load_settings" not in (project / "pkg/use.py").read_text()
    assert list((project / ".codefix" / "patches").iterdir())


def test_verbose_tells_rules_files_and_time_on_stderr_and_leaves_stdout_alone(project: Path):
    with_findings(project)
    plain = invoke("scan", "--format", "json", "--rule", "await-sync", project, cwd=project)
    verbose = invoke("scan", "--format", "json", "--rule", "await-sync", "--verbose", project, cwd=project)
    assert verbose.stdout == plain.stdout
    notes = verbose.stderr.splitlines()
    assert notes[0] == "codefix: rules: await-sync"
    files = len([p for p in project.rglob("*.py")])
    files_with_findings = len({f["path"] for f in json.loads(plain.stdout)["findings"]})
    assert files_with_findings == 2
    assert notes[1] == f"codefix: {files} files checked, {files_with_findings} files with findings, 0 files not checked"
    assert re.fullmatch(r"codefix: checked in \d+\.\d\d s \(results remembered from an earlier scan: nothing changed since\)", notes[2])
    fresh = invoke("scan", "--format", "json", "--rule", "await-sync", "--verbose", "--no-cache", project, cwd=project)
    assert fresh.stdout == plain.stdout
    assert re.fullmatch(r"codefix: checked in \d+\.\d\d s", fresh.stderr.splitlines()[2])
    step = r"[a-z-]+ \d+\.\d\d s(?: \(\d+ files?\))?"
    by_step = fresh.stderr.splitlines()[3]
    assert re.fullmatch(rf"codefix: time by step: {step}(?:, {step})*", by_step), by_step
    names = [part.split(" ")[0] for part in by_step.removeprefix("codefix: time by step: ").split(", ")]
    assert names[0] == "walking" and names[-1] == "checking" and "reading" in names
    assert f"({files} files)" in by_step.rpartition("checking")[2]


def test_verbose_lists_the_default_rules_of_a_bare_scan(project: Path):
    with_findings(project)
    result = invoke("scan", "-v", project, cwd=project)
    ran = result.stderr.splitlines()[0].removeprefix("codefix: rules: ").split(", ")
    assert ran == [rule_id for rule_id, rule in RULES_BY_ID.items() if rule.default_enabled]


def test_verbose_apply(project: Path):
    with_findings(project)
    result = invoke("apply", "--rule", "await-sync", "--dry-run", "-v", project, cwd=project)
    assert "codefix: rules: await-sync\n" in result.stderr


@pytest.mark.parametrize("command", ["scan", "apply"])
def test_quiet_and_verbose_together_are_a_usage_error(project: Path, command: str):
    before = snapshot(with_findings(project))
    result = invoke(command, "--rule", "await-sync", "-q", "-v", project, cwd=project)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["codefix: error: --quiet and --verbose cannot be used together"]
    assert snapshot(project) == before


# --- --no-color and NO_COLOR ----------------------------------------------------------

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    """The SGR parameters that set a colour (30-38, 40-48, 90-107), as opposed to bold and reset."""
    found = []
    for params in SGR.findall(text):
        for param in filter(None, params.split(";")):
            if 30 <= int(param) <= 48 or 90 <= int(param) <= 107:
                found.append(param)
    return found


def in_colour_terminal(*args: str, cwd: Path, no_color_env: str | None = None):
    """`codefix ARGS` in-process with output forced to a colour terminal (FORCE_COLOR) and NO_COLOR as given."""
    environment = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "200", "NO_COLOR": no_color_env}
    result = CliRunner().invoke(app, [str(a) for a in args], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_colour_is_on_in_a_terminal_and_off_with_no_color_or_NO_COLOR(project: Path, monkeypatch):
    with_findings(project)
    monkeypatch.chdir(project)
    coloured = in_colour_terminal("scan", *RULES, ".", cwd=project)
    assert colour_codes(coloured.stdout), coloured.stdout
    flag = in_colour_terminal("scan", *RULES, "--no-color", ".", cwd=project)
    env = in_colour_terminal("scan", *RULES, ".", cwd=project, no_color_env="1")
    for result in (flag, env):
        assert colour_codes(result.stdout) == []
        assert SGR.sub("", result.stdout) == SGR.sub("", coloured.stdout)
    # no-color.org: an empty NO_COLOR does not count.
    assert colour_codes(in_colour_terminal("scan", *RULES, ".", cwd=project, no_color_env="").stdout)
    # The flag held for its own command only.
    assert colour_codes(in_colour_terminal("scan", *RULES, ".", cwd=project).stdout)


def test_no_color_applies_to_the_diff_of_apply(project: Path, monkeypatch):
    with_findings(project)
    monkeypatch.chdir(project)
    coloured = in_colour_terminal("apply", *RULES, "--diff", ".", cwd=project)
    plain = in_colour_terminal("apply", *RULES, "--diff", "--no-color", ".", cwd=project)
    assert colour_codes(coloured.stdout) and colour_codes(plain.stdout) == []
    assert "+    return get_websocket_manager(ctx)" in SGR.sub("", plain.stdout)
