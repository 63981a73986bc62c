"""A scan as pre-commit types it, run without the option parser when the shortcut missed.

Pre-commit runs `codefix scan` on the files of a commit, which were just
edited, so the shortcut (shortcut.py) misses. The full command line then
imported typer and the rest of cli.py before the engine ran: about 0.15 s
(typer imports pydantic to coerce options) of a ~0.9 s one-file scan of a
10,000-file project. The shortcut has already read every argument of such a
command (`ScanCommand`), so this runs the engine on it and prints the result
as the full command line prints a scan's.

It runs only where the shortcut handed its walk over, that is for a command
an earlier full run recorded, and it steps aside (returns None) at any
doubt: a configuration error or any other exception is left to the full
command line, which runs the scan again and reports it in its own words.
Nothing is printed before the result is complete, so stepping aside never
shows half a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codefix.shortcut import Handover


def run(handover: Handover) -> int | None:
    """Scan as `codefix scan` does, print the result and return the exit code; None: the full command line must run."""
    command = handover.command
    if command is None:
        return None
    from codefix.engine import RunOptions, execute
    from codefix.progress import PhaseClock, progress_for
    from codefix.reporting import NO_COLOR, make_console
    from codefix.shortcut import handed_over, print_result

    options = RunOptions(
        paths=tuple(Path(path) for path in command.paths),
        rules=command.rules,
        config_file=Path(command.config_file) if command.config_file is not None else None,
        force_exclude=command.force_exclude,
        jobs=command.jobs,
    )
    token = NO_COLOR.set(True) if command.no_color else None
    progress = PhaseClock(progress_for(make_console(stderr=True), command.quiet))
    try:
        with handed_over(handover):
            _, result = execute(options, progress)
    except Exception:  # noqa: BLE001 - see the module docstring: the full command line decides
        return None
    finally:
        progress.close()
        if token is not None:
            NO_COLOR.reset(token)
    return print_result(command, result)
