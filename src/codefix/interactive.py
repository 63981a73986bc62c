"""`codefix apply --interactive`: review each hunk of the fixes, keep only what was accepted.

A `FileChange` is split into the hunks its unified diff shows (the grouping
of `difflib`, three lines of context, as in the saved patch), and the new
bytes are rebuilt from the accepted ones: every byte outside an accepted
hunk is the file's old byte, so CRLF endings, a BOM and a missing final
newline survive a partial acceptance exactly. A file whose accepted hunks do
not parse together (a fix can span several hunks) is left as it was and
reported. The prompt works like `git add -p` and the review modes of Bowler
and Fixit: y accept, n skip, a accept this and every remaining hunk, q skip
this and every remaining hunk, ? help; end of input counts as q.

Review needs a person at a terminal: when stdin is not one, `--interactive`
is refused (one error line, exit 2) rather than hang or guess. Tests set
`CODEFIX_ASSUME_TERMINAL=1` to review from a piped answer stream; the
variable is for tests only.

`settle` turns the decision (per file: the bytes now written) back into an
honest `RunResult`: the fixed findings whose lines a kept hunk touched, and
every other finding placed on the lines of the file as it will be on disk.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.text import Text

from codefix.changed_lines import line_mapper
from codefix.patch import render_diff, split_lines
from codefix.reporting import print_diff
from codefix.sourcefile import content_error
from codefix.types import FileChange, FileError, Finding, RunResult

#: For tests only: treat stdin as a terminal.
ASSUME_TERMINAL_VARIABLE = "CODEFIX_ASSUME_TERMINAL"
CONTEXT_LINES = 3
HELP = (
    "y - apply this hunk\n"
    "n - skip this hunk\n"
    "a - apply this hunk and every remaining one\n"
    "q - quit: skip this hunk and every remaining one (hunks already accepted are kept)\n"
    "? - show this help"
)

Opcode = tuple[str, int, int, int, int]


class NotATerminal(Exception):
    """`--interactive` without a person to answer; one line for the user."""


@dataclass(frozen=True)
class Hunk:
    """One hunk of a change: the edits `difflib` groups together, with 1-based old line range."""

    number: int
    edits: tuple[Opcode, ...]
    old_first: int
    old_last: int


def split_hunks(change: FileChange) -> list[Hunk]:
    """The hunks of `change` as its unified diff shows them."""
    old, new = split_lines(change.before), split_lines(change.after)
    hunks = []
    groups = difflib.SequenceMatcher(None, old, new).get_grouped_opcodes(CONTEXT_LINES)
    for number, group in enumerate(groups):
        edits = tuple(op for op in group if op[0] != "equal")
        if not edits:
            continue
        first = min(i1 for _, i1, _, _, _ in edits) + 1
        last = max(max(i2, i1 + 1) for _, i1, i2, _, _ in edits)
        hunks.append(Hunk(number, edits, first, last))
    return hunks


def merge_hunks(change: FileChange, accepted: Iterable[Hunk]) -> bytes:
    """The old bytes with only the accepted hunks' edits applied."""
    old, new = split_lines(change.before), split_lines(change.after)
    taken = {edit for hunk in accepted for edit in hunk.edits}
    out: list[bytes] = []
    for opcode in difflib.SequenceMatcher(None, old, new).get_opcodes():
        tag, i1, i2, j1, j2 = opcode
        out.extend(new[j1:j2] if tag != "equal" and opcode in taken else old[i1:i2])
    return b"".join(out)


def is_terminal(stream: TextIO) -> bool:
    if os.environ.get(ASSUME_TERMINAL_VARIABLE) == "1":
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def require_terminal(stream: TextIO | None = None) -> None:
    if not is_terminal(stream if stream is not None else sys.stdin):
        raise NotATerminal("--interactive needs a terminal to ask on, and stdin is not one (use --dry-run to see the diff)")


def line_reader(console: Console, stream: TextIO | None = None) -> Callable[[str], str | None]:
    """Ask on `console`, read one line from `stream` (stdin); None at end of input."""

    def ask(prompt: str) -> str | None:
        console.print(Text(prompt, style="bold blue"), end="")
        console.file.flush()
        line = (stream if stream is not None else sys.stdin).readline()
        if not line:
            console.print()
            return None
        return line.strip().lower()

    return ask


@dataclass
class Review:
    """What the person decided: each reviewed file's bytes to write, and files refused after review."""

    finals: dict[str, bytes] = dataclasses.field(default_factory=dict)
    errors: list[FileError] = dataclasses.field(default_factory=list)


def _show(console: Console, change: FileChange, hunk: Hunk, header: bool) -> None:
    alone = dataclasses.replace(change, after=merge_hunks(change, [hunk]))
    diff = render_diff([alone])
    if not header:
        diff = diff[diff.index("\n@@") + 1:] if "\n@@" in diff else diff
    print_diff(console, diff)


def review(changes: Sequence[FileChange], console: Console, ask: Callable[[str], str | None]) -> Review:
    """Ask about every hunk of `changes`, in order, and rebuild each file from the accepted ones."""
    outcome = Review()
    mode = "ask"  # becomes "all" after a, "none" after q
    for change in changes:
        hunks = split_hunks(change)
        accepted: list[Hunk] = []
        for position, hunk in enumerate(hunks):
            if mode == "ask":
                _show(console, change, hunk, header=position == 0)
                answer = _answer(console, ask, f"({position + 1}/{len(hunks)}) Apply this hunk to {change.path} [y,n,a,q,?]? ")
                if answer == "a":
                    mode = "all"
                elif answer == "q":
                    mode = "none"
                elif answer == "y":
                    accepted.append(hunk)
            if mode == "all":
                accepted.append(hunk)
        outcome.finals[change.path] = _rebuild(change, hunks, accepted, outcome.errors)
    return outcome


def _answer(console: Console, ask: Callable[[str], str | None], prompt: str) -> str:
    while True:
        answer = ask(prompt)
        if answer is None:
            return "q"
        if answer in ("y", "n", "a", "q"):
            return answer
        console.print(Text(HELP, style="bold red" if answer != "?" else ""))


def _rebuild(change: FileChange, hunks: list[Hunk], accepted: list[Hunk], errors: list[FileError]) -> bytes:
    if len(accepted) == len(hunks):
        return change.after
    if not accepted:
        return change.before
    partial = dataclasses.replace(change, after=merge_hunks(change, accepted))
    problem = content_error(partial.path, partial.after)
    if problem is not None:
        errors.append(FileError(change.path, f"the accepted hunks do not parse without the others ({problem}); not written"))
        return change.before
    return partial.after


def _changed_old_lines(before: bytes, final: bytes) -> set[int]:
    """1-based lines of `before` that differ in `final` (a pure insertion marks the lines around it)."""
    lines: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, split_lines(before), split_lines(final)).get_opcodes():
        if tag != "equal":
            lines.update(range(i1 + 1, i2 + 1) if i2 > i1 else (i1, i1 + 1))
    return lines


def _relocate(finding: Finding, mapped: Callable[[int], int]) -> Finding:
    line, end_line = mapped(finding.line), mapped(finding.end_line)
    return dataclasses.replace(finding, line=line, end_line=max(end_line, line))


def _owner(finding: Finding, changes: dict[str, FileChange]) -> FileChange | None:
    """The change that fixes `finding`: its own file's, or the configuration file its rule edits."""
    if finding.path in changes:
        return changes[finding.path]
    return next((c for c in changes.values() if not c.path.endswith(".py") and finding.rule in c.rules), None)


def settle(
    result: RunResult, finals: dict[str, bytes], show_unapplied: Callable[[Finding], bool] = lambda _: True
) -> RunResult:
    """`result` after each changed file's bytes became `finals[path]` (its old bytes: not written).

    Remaining findings are moved onto the lines of the final bytes; a fixed
    finding counts as fixed when a kept edit touches its lines (a
    configuration file's change: when any of it is kept), and otherwise is
    reported again where it now is, if `show_unapplied` accepts it.
    """
    changes = {c.path: c for c in result.changes}
    kept = [dataclasses.replace(c, after=finals.get(c.path, c.after)) for c in result.changes]
    kept = [c for c in kept if c.after != c.before]

    @functools.cache
    def final_of(path: str) -> bytes:
        return finals.get(path, changes[path].after)

    @functools.cache
    def from_fixed(path: str) -> Callable[[int], int]:
        """Lines of the fully fixed text to lines of the final bytes."""
        to_before, to_final = line_mapper(changes[path].after, changes[path].before), from_before(path)
        return lambda line: to_final(to_before(line))

    @functools.cache
    def from_before(path: str) -> Callable[[int], int]:
        return line_mapper(changes[path].before, final_of(path))

    @functools.cache
    def touched(path: str) -> set[int]:
        return _changed_old_lines(changes[path].before, final_of(path))

    findings: list[Finding] = []
    for finding in result.findings:
        unmoved = finding.path not in changes or final_of(finding.path) == changes[finding.path].after
        findings.append(finding if unmoved else _relocate(finding, from_fixed(finding.path)))
    fixed: list[Finding] = []
    for finding in result.fixed:
        change = _owner(finding, changes)
        if change is None or final_of(change.path) == change.after:
            fixed.append(finding)
        elif final_of(change.path) == change.before:
            if show_unapplied(finding):
                findings.append(_relocate(finding, from_before(finding.path)) if finding.path in changes else finding)
        elif change.path != finding.path or touched(change.path) & set(range(finding.line, finding.end_line + 1)):
            fixed.append(finding)
        elif show_unapplied(finding):
            findings.append(_relocate(finding, from_before(finding.path)))
    return dataclasses.replace(
        result,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        fixed=tuple(fixed),
        changes=tuple(kept),
    )
