"""Turning a RunResult into what a person or a program reads.

Rich renders to a terminal with colour; piped output is plain and unwrapped,
so scripts can `grep` it and diffs can be redirected into a patch file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextvars import ContextVar
from itertools import groupby

from rich.console import Console
from rich.text import Text

from codefix.types import FileError, Finding, RunResult

JSON_VERSION = 1


#: Set for one command by `--no-color`; the NO_COLOR variable is honoured by rich itself.
NO_COLOR: ContextVar[bool] = ContextVar("codefix_no_color", default=False)


def make_console(stderr: bool = False) -> Console:
    no_color = True if NO_COLOR.get() else None  # None: rich decides, from NO_COLOR in the environment
    return Console(stderr=stderr, soft_wrap=True, highlight=False, emoji=False, no_color=no_color)


def findings_as_json(result: RunResult) -> str:
    document = {
        "version": JSON_VERSION,
        "findings": [
            {
                "rule": f.rule,
                "path": f.path,
                "line": f.line,
                "col": f.col,
                "end_line": f.end_line,
                "end_col": f.end_col,
                "message": f.message,
                "fixable": f.fixable,
            }
            for f in result.findings
        ],
        "errors": [{"path": e.path, "message": e.message} for e in result.errors],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _print_lines(console: Console, lines: Iterable[Text]) -> None:
    """Each line through rich where it has colours to draw; otherwise written plain, as rich would.

    Rich renders a line in about 0.15 ms: a warm scan of a monorepo with a
    few thousand findings spent longer printing them than finding them. Piped
    and colourless, a line is its plain text (control codes already stripped
    by `Text`) with tabs expanded, which is all rich would write.
    """
    if console.is_terminal or console.color_system is not None:
        for line in lines:
            console.print(line)
        return
    chunks = []
    for line in lines:
        line.expand_tabs(console.tab_size)
        chunks.append(line.plain + "\n")
    console.file.write("".join(chunks))
    console.file.flush()


def _finding_lines(findings: Iterable[Finding]) -> Iterable[Text]:
    for _, group in groupby(findings, key=lambda f: f.path):
        for finding in group:
            line = Text()
            line.append(f"{finding.path}:{finding.line}:{finding.col}:", style="bold")
            line.append(" ")
            line.append(finding.rule, style="bold red")
            line.append(f" {finding.message}")
            if finding.fixable:
                line.append(" [*]", style="cyan")
            yield line
        yield Text()


def print_findings(console: Console, findings: Iterable[Finding]) -> None:
    _print_lines(console, _finding_lines(findings))


def _error_line(error: FileError) -> Text:
    line = Text()
    line.append(f"{error.path}:", style="bold")
    line.append(" error: ", style="bold yellow")
    line.append(error.message)
    return line


def print_errors(console: Console, errors: Iterable[FileError]) -> None:
    _print_lines(console, map(_error_line, errors))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(result: RunResult) -> str:
    findings = result.findings
    fixable = sum(f.fixable for f in findings)
    files = len({f.path for f in findings})
    text = f"Found {plural(len(findings), 'finding')}"
    if findings:
        text += f" in {plural(files, 'file')} ({fixable} fixable with `codefix apply`)"
    text += f"; {plural(result.files_checked, 'file')} checked"
    if result.errors:
        text += f", {plural(len(result.errors), 'file')} could not be checked"
    return text + "."


def print_report(console: Console, result: RunResult, quiet: bool = False) -> None:
    """Findings, errors and the summary line (`--quiet`: without the summary)."""
    print_findings(console, result.findings)
    print_errors(console, result.errors)
    if not quiet:
        console.print(Text(summary(result), style="bold"))


_DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("diff ", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def print_diff(console: Console, diff: str) -> None:
    """Coloured on a terminal; exactly the patch text when piped."""
    if not console.is_terminal:
        console.file.write(diff)
        console.file.flush()
        return
    for line in diff.splitlines():
        style = next((s for prefix, s in _DIFF_STYLES if line.startswith(prefix)), "")
        console.print(Text(line, style=style))
