"""shortcut.py: a remembered scan, answered before LibCST and the rules are imported.

The oracle is the full command line (typer's app in-process, which never
takes the shortcut) with `--no-cache`: for every command the shortcut
understands, its output and exit code must be the full scan's, and after
any edit that could change a finding, the shortcut must step aside.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codefix import shortcut
from conftest import invoke, write

PROJECT = {
    "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = ["slow: slow tests"]\n',
    "app/__init__.py": "",
    "app/ws.py": "def get_websocket_manager():\n    return object()\n",
    "app/service.py": "from app.ws import get_websocket_manager\n\n\nasync def handler():\n    return await get_websocket_manager()\n",
    "tests/test_a.py": "import pytest\n\n\n@pytest.mark.slow\n@pytest.mark.db\ndef test_a():\n    pass\n",
}

COMMANDS = [
    ["scan"],
    ["scan", ".", "-q"],
    ["scan", "--format", "json"],
    ["scan", "--rule", "await-websocket", "--no-color"],
    ["scan", "--format=json", "--rule=pytest-markers", "--exit-zero"],
    ["scan", "app/service.py", "tests"],
    ["scan", "--force-exclude", "--jobs", "1", "app/service.py"],
]


def touch(path: Path, text: str) -> None:
    """Rewrite a file and move its mtime on, as an editor a second later would."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if before:
        os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def full(root: Path, args: list[str], *more: str) -> tuple[int, str]:
    result = invoke(*args, *more, cwd=root)
    return result.exit_code, result.stdout


def short(root: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str] | None:
    """The shortcut's answer in-process, or None when it stepped aside."""
    capsys.readouterr()
    with contextlib.chdir(root):
        code = shortcut.run(args)
    out = capsys.readouterr().out
    if code is None:
        assert out == ""
        return None
    return code, out


@pytest.fixture(autouse=True)
def _no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CODEFIX_NO_SHORTCUT", raising=False)


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(args) for args in COMMANDS])
def test_the_shortcut_answers_as_the_full_scan_does(args: list[str], tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    fresh = full(root, args, "--no-cache")
    assert short(root, args, capsys) is None  # nothing recorded yet
    assert full(root, args) == fresh  # records the shortcut
    answered = short(root, args, capsys)
    assert answered == fresh
    assert fresh[1].strip() or "-q" in args  # there was something to print


def test_the_findings_are_all_there(tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    full(root, ["scan"])
    code, out = short(root, ["scan", "--format", "json"], capsys)
    found = sorted((item["rule"], item["path"]) for item in json.loads(out)["findings"])
    assert code == 1 and found == [("await-websocket", "app/service.py"), ("pytest-markers", "tests/test_a.py")]


EDITS = {
    "another module made async": ("app/ws.py", "async def get_websocket_manager():\n    return object()\n"),
    "a marker registered": ("pyproject.toml", PROJECT["pyproject.toml"].replace('"slow: slow tests"', '"slow: s", "db: d"')),
    "a rule ignored": ("pyproject.toml", PROJECT["pyproject.toml"] + '\n[tool.codefix]\nignore = ["pytest-markers"]\n'),
    "a new file": ("app/other.py", "from app.ws import get_websocket_manager\n\n\nasync def h():\n    await get_websocket_manager()\n"),
    "a nearer configuration": ("app/codefix.toml", 'ignore = ["await-websocket"]\n'),
    "the cache moved": ("pyproject.toml", PROJECT["pyproject.toml"] + '\n[tool.codefix]\ncache-dir = "elsewhere"\n'),
    "a gitignore": (".gitignore", "app/service.py\n"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_after_an_edit_the_shortcut_steps_aside_until_a_full_run(edit: str, tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    args = ["scan", "app", "tests"]
    full(root, args)
    assert short(root, args, capsys) is not None
    path, text = EDITS[edit]
    touch(root / path, text)
    assert short(root, args, capsys) is None
    after = full(root, args)
    assert after == full(root, args, "--no-cache")
    answered = short(root, args, capsys)
    if edit == "the cache moved":  # the shortcut only looks in the default cache folder
        assert answered is None
    else:
        assert answered == after


def test_a_deleted_file_is_seen(tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    full(root, ["scan"])
    (root / "app/service.py").unlink()
    assert short(root, ["scan"], capsys) is None


def test_the_same_command_from_another_folder(tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    recorded = full(root, ["scan", "app"])
    assert short(tmp_path, ["scan", "p/app"], capsys) == recorded


@pytest.mark.parametrize(
    "args",
    [
        ["apply", "--rule", "await-websocket"],
        ["scan", "--statistics"],
        ["scan", "--format", "sarif"],
        ["scan", "--verbose"],
        ["scan", "--since", "HEAD"],
        ["scan", "--baseline", "b.json"],
        ["scan", "--no-cache"],
        ["scan", "--jobs", "0"],
        ["scan", "-j2"],
        ["scan", "--rule"],
        ["scan", "pyproject.toml"],
        ["scan", "--", "app"],
        ["scan", "--help"],
    ],
)
def test_commands_it_does_not_know_go_to_the_full_command_line(args: list[str], tmp_path: Path):
    root = write(tmp_path / "p", PROJECT)
    with contextlib.chdir(root):
        assert shortcut.parse_scan(args) is None


def test_what_it_parses(tmp_path: Path):
    root = write(tmp_path / "p", PROJECT)
    with contextlib.chdir(root):
        command = shortcut.parse_scan(["scan", "-q", "--jobs", "2", "--rule=await-sync", "--config", "pyproject.toml", "app/", "--format", "json"])
    assert command == shortcut.ScanCommand(
        paths=("app",),
        rules=("await-sync",),
        config_file=str(root / "pyproject.toml"),
        force_exclude=None,
        output_format="json",
        quiet=True,
        jobs=2,
    )


#: `codefix` as its console script runs, telling on stderr its exit code and whether LibCST and typer were imported.
CONSOLE_PROBE = (
    "import sys\n"
    "from codefix.entry import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exit:\n"
    "    sys.stderr.write(f'exit {exit.code} libcst {\"libcst\" in sys.modules} typer {\"typer\" in sys.modules}\\n')\n"
)


def console(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`codefix ARGS` in a process of its own, in `root`, with the shortcut allowed (see `CONSOLE_PROBE`)."""
    environment = {**os.environ, "NO_COLOR": "1", **env}
    if "CODEFIX_NO_SHORTCUT" not in env:
        environment.pop("CODEFIX_NO_SHORTCUT", None)
    return subprocess.run(
        [sys.executable, "-c", CONSOLE_PROBE, *args], cwd=root, capture_output=True, text=True, env=environment, timeout=120
    )


def test_the_console_command_skips_libcst_when_it_can(tmp_path: Path):
    """End to end, as pre-commit runs it: the second scan imports neither LibCST nor typer, and prints the same."""
    root = write(tmp_path / "p", PROJECT)
    first, second = console(root, "scan", "."), console(root, "scan", ".")
    assert first.stderr.endswith("exit 1 libcst True typer True\n"), first.stderr
    assert second.stderr.endswith("exit 1 libcst False typer False\n"), second.stderr
    assert second.stdout == first.stdout and "app/service.py" in second.stdout


def test_another_rule_selection_is_another_command(tmp_path: Path, capsys):
    root = write(tmp_path / "p", PROJECT)
    full(root, ["scan"])
    assert short(root, ["scan", "--rule", "await-websocket"], capsys) is None
    only = full(root, ["scan", "--rule", "await-websocket"])
    assert short(root, ["scan", "--rule", "await-websocket"], capsys) == only
    assert short(root, ["scan"], capsys) == full(root, ["scan", "--no-cache"])  # both remembered


def test_a_monorepo_configuration_above_the_project_root_is_watched(tmp_path: Path, capsys):
    """The configuration may live above the project root (up to the git work tree's top), outside the walked tree."""
    top = tmp_path / "mono"
    (top / ".git").mkdir(parents=True)
    write(top, {"codefix.toml": 'ignore = ["pytest-markers"]\n'})
    root = write(top / "svc", PROJECT)
    recorded = full(root, ["scan"])
    assert "pytest-markers" not in recorded[1] and short(root, ["scan"], capsys) == recorded
    touch(top / "codefix.toml", "ignore = []\n")
    assert short(root, ["scan"], capsys) is None
    assert "pytest-markers" in full(root, ["scan"])[1]


def test_a_missed_shortcut_hands_its_walk_and_state_to_the_full_run_of_that_command_only(tmp_path: Path, monkeypatch):
    from codefix import engine, results_memo

    root = write(tmp_path / "p", PROJECT)
    args = ["scan", "app/service.py", "--format", "json"]
    full(root, args)  # records the shortcut
    touch(root / "app/service.py", PROJECT["app/service.py"] + "\n\nasync def more():\n    return await get_websocket_manager()\n")
    with contextlib.chdir(root):
        code, handover = shortcut.run_or_hand_over(args)
    assert code is None and handover is not None
    walks: list[object] = []
    states: list[object] = []
    real_walk, real_state = engine.walk_project, results_memo.project_state
    monkeypatch.setattr(engine, "walk_project", lambda *a: walks.append(a) or real_walk(*a))
    monkeypatch.setattr(engine, "project_state", lambda *a: states.append(a) or real_state(*a))
    with shortcut.handed_over(handover):
        handed = full(root, args)
    assert (walks, states) == ([], [])
    assert handed == full(root, args, "--no-cache")  # the same findings as a run that walks for itself
    walks.clear()
    full(root, ["scan", "--format", "json"])  # after the block, and for another command: its own walk
    assert len(walks) == 1
    # A handover for other paths is not taken.
    with shortcut.handed_over(handover), contextlib.chdir(root):
        assert shortcut.walk_handed_over(handover.root, [Path("app")], handover.exclusion) is None
        assert shortcut.walk_handed_over(handover.root, handover.paths, handover.exclusion) is handover.walk
    assert shortcut.walk_handed_over(handover.root, handover.paths, handover.exclusion) is None


# plain_scan.py: after a miss, the command the shortcut read runs without the option parser.

EDITED_SERVICE = PROJECT["app/service.py"] + "\n\nasync def more():\n    return await get_websocket_manager()\n"


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(args) for args in COMMANDS])
def test_after_a_miss_the_plain_scan_answers_as_the_full_scan_does(args: list[str], tmp_path: Path, capsys):
    from codefix import plain_scan

    root = write(tmp_path / "p", PROJECT)
    full(root, args)  # records the shortcut
    touch(root / "app/service.py", EDITED_SERVICE)
    fresh = full(root, args, "--no-cache")
    capsys.readouterr()
    with contextlib.chdir(root):
        code, handover = shortcut.run_or_hand_over(args)
        assert code is None and handover is not None
        code = plain_scan.run(handover)
    assert (code, capsys.readouterr().out) == fresh
    assert short(root, args, capsys) == fresh  # and it recorded its result, as the full run does


def test_a_plain_scan_steps_aside_when_it_is_in_doubt(tmp_path: Path, capsys, monkeypatch):
    from codefix import engine, plain_scan

    configured = PROJECT["pyproject.toml"] + "\n[tool.codefix]\n"
    root = write(tmp_path / "p", {**PROJECT, "pyproject.toml": configured})
    full(root, ["scan"])
    touch(root / "pyproject.toml", configured + "select = ['no-such-rule']\n")
    with contextlib.chdir(root):
        _, handover = shortcut.run_or_hand_over(["scan"])
        assert handover is not None
        assert plain_scan.run(handover) is None  # a configuration error: the full command line words it
        monkeypatch.setattr(engine, "execute", lambda *a: 1 / 0)
        assert plain_scan.run(handover) is None
    assert capsys.readouterr() == ("", "")  # and nothing was printed on the way


def test_the_console_command_after_an_edit_skips_typer_and_libcst_when_it_can(tmp_path: Path):
    """End to end, as pre-commit runs it on a file just edited: no typer, LibCST only for a file it must parse, and the output of a fresh scan."""
    root = write(tmp_path / "p", PROJECT)
    for args in (["app/service.py"], ["--format", "json", "."]):
        console(root, "scan", *args)  # records the shortcut
        touch(root / "app/service.py", EDITED_SERVICE + f"# {args}\n")
        plain = console(root, "scan", *args)
        assert plain.stderr.endswith("exit 1 libcst True typer False\n"), plain.stderr
        fresh = console(root, "scan", *args, "--no-cache", CODEFIX_NO_SHORTCUT="1")
        assert plain.stdout == fresh.stdout
        assert ("app/service.py:9:" if "json" not in args else '"line": 9') in plain.stdout  # the await the edit added
    console(root, "scan", "app/ws.py")
    touch(root / "app/ws.py", PROJECT["app/ws.py"] + "\n\ndef other():\n    return 1\n")
    plain = console(root, "scan", "app/ws.py")  # nothing there any rule must parse with LibCST to judge
    assert plain.stderr.endswith("exit 0 libcst False typer False\n"), plain.stderr
    assert plain.stdout == console(root, "scan", "app/ws.py", "--no-cache", CODEFIX_NO_SHORTCUT="1").stdout
    touch(root / "app/codefix.toml", "ignore = [\n")  # a broken configuration: the full command line tells
    broken = console(root, "scan", "app/service.py")
    assert broken.stderr.startswith("codefix: error: ") and broken.stderr.endswith(" typer True\n"), broken.stderr
    assert "exit 2 " in broken.stderr and broken.stderr.count("codefix: error") == 1
