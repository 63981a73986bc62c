"""Where each part of a command's output goes, once `--format`, `--output-file` and friends are known.

The report proper (findings and errors, in the chosen format) goes to
`--output-file` or stdout. When a machine-readable report takes stdout,
everything written for people (a dry-run diff, the "Fixed ..." line,
`--show-fixes`) moves to stderr, so that `codefix scan --format sarif >
report.sarif` stays a valid document. `--verbose` notes always go to stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from codefix.formats import fixes, render, statistics, text
from codefix.formats.output import write_report
from codefix.reporting import make_console, plural, print_errors, print_report
from codefix.rules import Rule
from codefix.types import Finding, RunResult


@dataclass(frozen=True)
class ReportRequest:
    """What the user asked of the report, straight from the flags."""

    fmt: str = "text"
    output_file: Path | None = None
    quiet: bool = False
    verbose: bool = False
    show_fixes: bool = False
    statistics: bool = False

    @property
    def machine_on_stdout(self) -> bool:
        """A machine-readable report owns stdout; people's output goes to stderr."""
        return self.output_file is None and self.fmt != "text"

    def human_console(self, stderr: bool = False) -> Console:
        """Where people's output goes: `stderr` as the command wants, or stderr anyway when stdout is taken."""
        return make_console(stderr=stderr or self.machine_on_stdout)


def report_text(result: RunResult, request: ReportRequest, rules: Sequence[type[Rule]]) -> str:
    """The report as it goes to a file or a pipe (no colour)."""
    if request.statistics and request.fmt == "json":
        return statistics.render_json(result)
    if request.statistics:
        lines = statistics.render_text(result.findings)
        errors = text.render(RunResult(root=result.root, errors=result.errors), quiet=True)
        return lines + errors
    if request.fmt == "text":
        return text.render(result, quiet=request.quiet)
    return render(result, request.fmt, rules)


def deliver(result: RunResult, request: ReportRequest, rules: Sequence[type[Rule]], console: Console) -> None:
    """Write the report; a text report to a terminal is printed by rich, with colour.

    Raises OSError when `--output-file` cannot be written.
    """
    if request.output_file is not None:
        write_report(request.output_file, report_text(result, request, rules))
        return
    if request.fmt == "text" and not request.statistics:
        print_report(console, result, quiet=request.quiet)
        return
    if request.fmt == "text":
        console.file.write(statistics.render_text(result.findings))
        print_errors(console, result.errors)
        return
    stdout = make_console()
    stdout.file.write(report_text(result, request, rules))
    stdout.file.flush()


def show_fixes(console: Console, findings: Sequence[Finding], heading: str) -> None:
    console.file.write(fixes.render(findings, heading))


def verbose_notes(result: RunResult) -> list[str]:
    """What `--verbose` adds: the rules that ran, the files checked, and where the time went."""
    rules = result.extra.get("rules", ())
    notes = [f"rules: {', '.join(rule.id for rule in rules) or 'none'}"]  # type: ignore[union-attr]
    checked = f"{plural(result.files_checked, 'file')} checked"
    with_findings = len({f.path for f in result.findings})
    notes.append(f"{checked}, {plural(with_findings, 'file')} with findings, {plural(len(result.errors), 'file')} not checked")
    elapsed = result.extra.get("elapsed")
    if elapsed is not None:
        note = f"checked in {elapsed:.2f} s"
        if result.extra.get("remembered"):
            note += " (results remembered from an earlier scan: nothing changed since)"
        notes.append(note)
    phases = result.extra.get("phases")
    if phases:
        steps = [
            f"{name.lower()} {seconds:.2f} s" + (f" ({plural(files, 'file')})" if files else "")
            for name, files, seconds in phases  # type: ignore[union-attr]
        ]
        notes.append(f"time by step: {', '.join(steps)}")
    return notes


def print_verbose(result: RunResult) -> None:
    console = make_console(stderr=True)
    for note in verbose_notes(result):
        console.print(Text(f"codefix: {note}"))
