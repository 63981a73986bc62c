"""The command line: flags in, rendered results out. No code analysis lives here.

Exit codes: 0 nothing to report, 1 findings (or, for apply, findings left or
`--exit-non-zero-on-fix` and a change), 2 usage or configuration error.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from codefix import __version__
from codefix.discovery import find_project_root, missing_paths
from codefix.engine import RunOptions, load_project, run
from codefix.patch import PatchError, default_patch_path, make_patch, render_diff, revert, save_patch
from codefix.reporting import findings_as_json, make_console, plural, print_diff, print_report
from codefix.rules import ALL_RULES, RULES_BY_ID, ConfigurationError
from codefix.types import RunResult
from codefix.writer import PatchSaveError, write_changes

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="codefix",
    help="Find and safely rewrite async and test-configuration bugs across a Python project.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    make_console(stderr=True).print(Text(f"codefix: error: {message}"))
    return typer.Exit(code)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"codefix {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """Find and safely rewrite async and test-configuration bugs across a Python project."""


PathsArgument = Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: .).", show_default=False)]
RuleOption = Annotated[list[str], typer.Option("--rule", help="Rule id to run; repeatable (scan default: rules on by default).")]


NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the index cache.")]


def _compute(
    paths: Optional[list[Path]],
    rules: list[str],
    fix: bool,
    flags: frozenset[str] = frozenset(),
    no_cache: bool = False,
) -> RunResult:
    chosen = tuple(paths or [Path(".")])
    missing = missing_paths(chosen)
    if missing:
        raise fail(f"{missing[0]}: no such file or folder")
    try:
        options = RunOptions(paths=chosen, rules=tuple(rules), fix=fix, flags=flags, use_cache=not no_cache)
        return run(options, load_project(options))
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


@app.command()
def scan(
    paths: PathsArgument = None,
    rule: RuleOption = [],  # noqa: B006 - typer reads the default
    output_format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.text,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    no_cache: NoCacheOption = False,
) -> None:
    """Report findings; change nothing."""
    result = _compute(paths, rule, fix=False, no_cache=no_cache)
    console = make_console()
    if output_format is OutputFormat.json:
        console.file.write(findings_as_json(result))
    else:
        print_report(console, result)
    raise typer.Exit(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


@app.command()
def apply(
    paths: PathsArgument = None,
    rule: RuleOption = [],  # noqa: B006
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; touch no source file.")] = False,
    patch: Annotated[Optional[Path], typer.Option("--patch", help="Where to save the reversible patch.")] = None,
    exit_non_zero_on_fix: Annotated[
        bool, typer.Option("--exit-non-zero-on-fix", help="Also exit 1 when a file was changed.")
    ] = False,
    describe: Annotated[
        bool, typer.Option("--describe", help="pytest-markers: describe new markers from the tests using them.")
    ] = False,
    fix_typos: Annotated[
        bool, typer.Option("--fix-typos", help="pytest-markers: rename likely typos to the registered marker.")
    ] = False,
    dedupe: Annotated[
        bool, typer.Option("--dedupe", help="pytest-markers: remove duplicate entries of the marker list.")
    ] = False,
    no_cache: NoCacheOption = False,
) -> None:
    """Rewrite what is safely fixable, saving a patch that undoes it."""
    if not rule:
        raise fail("apply needs at least one --rule ID (see `codefix rules`)")
    flags = frozenset(name for name, on in (("describe", describe), ("fix-typos", fix_typos), ("dedupe", dedupe)) if on)
    result = _compute(paths, rule, fix=True, flags=flags, no_cache=no_cache)
    changes = result.changes
    errors = list(result.errors)
    title = ", ".join(rule) or "default rules"
    patch_path = None
    interrupted = False
    not_tried = 0
    if dry_run:
        print_diff(make_console(), render_diff(changes))
        report_console = make_console(stderr=True)
        if changes and patch is not None:
            patch_path = patch
            try:
                save_patch(patch_path, make_patch(changes, title=title))
            except OSError as exc:
                raise fail(f"{patch_path}: cannot save the patch: {exc.strerror or exc}") from None
    else:
        try:
            outcome = write_changes(result.root, changes, patch or default_patch_path(result.root), title)
        except PatchSaveError as exc:
            raise fail(f"{exc}; no file was written") from None
        errors.extend(outcome.errors)
        changes = outcome.written
        patch_path = outcome.patch_path
        interrupted = outcome.interrupted
        not_tried = len(outcome.not_tried)
        report_console = make_console()
    print_report(report_console, RunResult(**{**result.__dict__, "errors": tuple(errors), "changes": changes}))
    fixed = len(result.fixed) if changes or dry_run else 0
    verb = "Would fix" if dry_run else "Fixed"
    line = f"{verb} {plural(fixed, 'finding')} in {plural(len(changes), 'file')}."
    if patch_path is not None and dry_run:
        line += f" Patch saved to {patch_path}; no source file was changed."
    elif patch_path is not None:
        line += f" Patch: {patch_path} (undo with `codefix revert {patch_path}`)."
    report_console.print(Text(line, style="bold"))
    if interrupted:
        left = f"{plural(not_tried, 'file')} left as they were; run apply again to finish"
        make_console(stderr=True).print(Text(f"codefix: interrupted; {left}"))
        raise typer.Exit(EXIT_INTERRUPTED)
    code = EXIT_FINDINGS if result.findings else EXIT_CLEAN
    if exit_non_zero_on_fix and changes:
        code = EXIT_FINDINGS
    raise typer.Exit(code)


@app.command(name="revert")
def revert_command(
    patch_file: Annotated[Path, typer.Argument(help="A patch saved by `codefix apply`.")],
    root: Annotated[Optional[Path], typer.Option("--root", help="Project root the patch paths are relative to.")] = None,
) -> None:
    """Undo a patch; refuse, writing nothing, if any of its files changed since."""
    try:
        data = patch_file.read_bytes()
    except OSError as exc:
        raise fail(f"{patch_file}: cannot read: {exc.strerror or exc}") from None
    if root is None:
        parent = patch_file.resolve().parent
        root = parent.parent.parent if parent.name == "patches" and parent.parent.name == ".codefix" else find_project_root(Path("."))
    try:
        restored = revert(root, data)
    except PatchError as exc:
        raise fail(str(exc), EXIT_FINDINGS) from None
    make_console().print(Text(f"Reverted {plural(len(restored), 'file')} from {patch_file}."))


@app.command(name="rules")
def list_rules() -> None:
    """List the rules."""
    console = make_console()
    table = Table("id", "default", "summary", box=None, pad_edge=False)
    for rule in ALL_RULES:
        table.add_row(rule.id, "on" if rule.default_enabled else "off", rule.summary)
    console.print(table)


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id, as `codefix rules` lists them.")]) -> None:
    """Print a rule's documentation."""
    rule = RULES_BY_ID.get(rule_id)
    if rule is None:
        raise fail(f"unknown rule {rule_id!r} (known rules: {', '.join(RULES_BY_ID)})")
    console = make_console()
    text = f"# {rule.id}\n\n{rule.summary}.\n\n{rule.documentation()}\n"
    if console.is_terminal:
        console.print(Markdown(text))
    else:
        console.file.write(text)


def main() -> None:
    """Console entry point: usage errors become one line on stderr and exit 2."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        sys.stderr.write("codefix: interrupted\n")
        sys.exit(130)
    except typer.Abort:
        sys.stderr.write("codefix: aborted\n")
        sys.exit(1)
    except Exception as exc:
        # Usage errors of the option parser (vendored by typer, so matched by
        # shape rather than by class): one line, the parser's exit code.
        if not (hasattr(exc, "exit_code") and hasattr(exc, "format_message")):
            raise
        message = " ".join(str(exc.format_message()).split())
        if message:  # empty after `codefix` alone, which has printed the help
            sys.stderr.write(f"codefix: error: {message}\n")
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
