"""Piped text output is written without rich's renderer (see reporting._print_lines).

The oracle is rich itself: a console that renders every line through rich,
colourless and not a terminal, must write exactly the bytes the fast path
writes, for findings and errors whose messages hold what rich treats
specially (tabs, control codes, markup-like brackets, wide characters).
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from codefix import reporting
from codefix.types import FileError, Finding

AWKWARD = [
    "plain message",
    "tab\there and\tthere",
    "a bell \x07, a carriage return \r and a backspace \x08 inside",
    "[bold]not markup[/bold] and [*] brackets",
    "wide 漢字 and é and emoji 🐍 :snake:",
    "trailing spaces   ",
]


def _findings() -> list[Finding]:
    found = []
    for number, message in enumerate(AWKWARD):
        path = "pkg/a file.py" if number < 3 else "pkg/é\tb.py"
        found.append(Finding("await-websocket", path, number + 1, number, number + 1, number + 4, message, number % 2 == 0))
    return found


def _console(buffer: io.StringIO) -> Console:
    return Console(file=buffer, soft_wrap=True, highlight=False, emoji=False, no_color=True, width=20)


def _through_rich(console: Console, lines) -> None:
    for line in lines:
        console.print(line)


@pytest.mark.parametrize("kind", ["findings", "errors"])
def test_plain_output_equals_what_rich_writes(kind: str, monkeypatch: pytest.MonkeyPatch):
    def report(console: Console) -> None:
        if kind == "findings":
            reporting.print_findings(console, _findings())
        else:
            reporting.print_errors(console, [FileError(f"pkg/m{n}.py", message) for n, message in enumerate(AWKWARD)])

    fast = io.StringIO()
    fast_console = _console(fast)
    assert not fast_console.is_terminal and fast_console.color_system is None  # the fast path is taken
    report(fast_console)
    slow = io.StringIO()
    monkeypatch.setattr(reporting, "_print_lines", _through_rich)
    report(_console(slow))
    assert fast.getvalue() == slow.getvalue()
    assert fast.getvalue().count("\n") >= len(AWKWARD)
