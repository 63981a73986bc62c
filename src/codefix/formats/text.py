"""The human report as plain text, for `--output-file` (a terminal gets the coloured one)."""

from __future__ import annotations

import io

from rich.console import Console

from codefix.reporting import print_report
from codefix.types import RunResult


def render(result: RunResult, quiet: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, soft_wrap=True, highlight=False, emoji=False, color_system=None)
    print_report(console, result, quiet=quiet)
    return buffer.getvalue()
