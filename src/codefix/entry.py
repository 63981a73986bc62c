"""The `codefix` command: a remembered scan first (shortcut.py), else the full command line (cli.py).

When the shortcut missed on a command it read whole, the scan runs without
the option parser (plain_scan.py); it too steps aside to cli.py at any doubt.

Kept apart from cli.py, whose imports (typer, LibCST through the rules) cost
more than a whole remembered scan.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from codefix.shortcut import handed_over, run_or_hand_over

        code, handover = run_or_hand_over(sys.argv[1:])
        if code is None and handover is not None:
            from codefix.plain_scan import run as scan_plainly

            code = scan_plainly(handover)
    except KeyboardInterrupt:
        sys.stderr.write("codefix: interrupted\n")
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    from codefix.cli import main as full_command_line

    with handed_over(handover):
        full_command_line()
