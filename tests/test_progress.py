"""The progress bar: on a terminal for runs that last, never in pipes, logs or with --quiet."""

from __future__ import annotations

from pathlib import Path

from conftest import run_codefix, run_in_terminal, write

PROJECT = {
    "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n',
    "app/__init__.py": "",
    "app/ws.py": "def get_websocket_manager():\n    return object()\n",
    "app/service.py": "from app.ws import get_websocket_manager\n\n\nasync def handler():\n    return await get_websocket_manager()\n",
}
SHOW_AT_ONCE = {"CODEFIX_PROGRESS_DELAY": "0"}


def test_a_terminal_sees_the_bar_once_the_run_lasts(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    output = run_in_terminal(["scan", "--no-cache", "."], root, env=SHOW_AT_ONCE)
    assert "Checking" in output
    assert "Reading" in output and "Screening" in output  # the screening's steps too
    assert "app/service.py:5" in output  # the report itself is still there


def test_a_short_run_shows_no_bar(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    output = run_in_terminal(["scan", "--no-cache", "."], root)
    assert "Checking" not in output and "Indexing" not in output
    assert "app/service.py:5" in output


def test_quiet_and_pipes_never_show_it(tmp_path: Path):
    root = write(tmp_path, PROJECT)
    quiet = run_in_terminal(["scan", "--no-cache", "--quiet", "."], root, env=SHOW_AT_ONCE)
    assert "Checking" not in quiet and "app/service.py:5" in quiet
    piped = run_codefix("scan", "--no-cache", ".", cwd=root, env=SHOW_AT_ONCE)
    assert "Checking" not in piped.stderr + piped.stdout
    assert piped.code == 1


def test_the_phase_clock_times_each_phase_and_adds_up_repeated_ones():
    from codefix.progress import NoProgress, PhaseClock

    ticks = iter([0.0, 1.0, 1.0, 1.5, 1.5, 4.0, 4.0, 4.25])
    seen: list[tuple[str, object]] = []

    class Recording(NoProgress):
        def phase(self, description: str, total: int) -> None:
            seen.append(("phase", description))

        def advance(self, count: int = 1) -> None:
            seen.append(("advance", count))

    clock = PhaseClock(Recording(), clock=lambda: next(ticks))
    clock.phase("Reading", 3)
    clock.advance()
    clock.phase("Indexing", 2)
    clock.phase("Checking", 5)
    clock.phase("Indexing", 1)
    clock.close()
    assert clock.phases == [("Reading", 3, 1.0), ("Indexing", 3, 0.75), ("Checking", 5, 2.5)]
    assert seen == [("phase", "Reading"), ("advance", 1), ("phase", "Indexing"), ("phase", "Checking"), ("phase", "Indexing")]
