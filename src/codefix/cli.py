"""The command line: flags in, rendered results out. No code analysis lives here.

Exit codes: 0 nothing to report, 1 findings (or, for apply, findings left or
`--exit-non-zero-on-fix` and a change), 2 usage or configuration error.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from codefix import __version__
from codefix.baseline import (
    Baseline,
    BaselineError,
    load_baseline,
    on_disk_source,
    only_new,
    save_baseline,
)
from codefix.changed_lines import ChangedLines, GitError, changed_lines
from codefix.config import load_config
from codefix.config_render import render_config
from codefix.discovery import find_project_root, missing_paths
from codefix.engine import RunOptions, execute
from codefix.progress import PhaseClock, progress_for
from codefix.formats.delivery import ReportRequest, deliver, print_verbose
from codefix.formats.delivery import show_fixes as show_fixes_of
from codefix.interactive import (
    NotATerminal,
    line_reader,
    require_terminal,
    review,
    settle,
)
from codefix.patch import (
    PatchError,
    default_patch_path,
    make_patch,
    render_diff,
    revert,
    save_patch,
)
from codefix.reporting import (
    NO_COLOR,
    make_console,
    plural,
    print_diff,
)
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
    github = "github"
    sarif = "sarif"
    junit = "junit"


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
RuleOption = Annotated[list[str], typer.Option("--rule", help="Rule id to run, or `selected` for those the configuration selects; repeatable (scan default: selected).")]


NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache (index and results).")]
JobsOption = Annotated[
    Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes for indexing and analysis (default: one per CPU).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only findings and errors: no summary lines.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also tell (on stderr) the rules run, files checked and time taken, by step.")
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="Report format: text, json, github (Actions annotations), sarif (2.1.0) or junit (XML)."),
]
OutputFileOption = Annotated[
    Optional[Path], typer.Option("--output-file", "-o", help="Write the report to this file instead of stdout.")
]
ShowFixesOption = Annotated[
    bool, typer.Option("--show-fixes", help="After the report, list the fixes applied (apply) or possible (scan).")
]


def _no_color_callback(ctx: typer.Context, value: bool) -> bool:
    """`--no-color` holds for this command only (in-process runs must not leak it to the next)."""
    if value:
        token = NO_COLOR.set(True)
        ctx.call_on_close(lambda: NO_COLOR.reset(token))
    return value


NoColorOption = Annotated[
    bool, typer.Option("--no-color", help="No colour, as with NO_COLOR=1.", callback=_no_color_callback)
]


def _report_request(output_format: OutputFormat, output_file: Optional[Path], quiet: bool, verbose: bool, **more: bool) -> ReportRequest:
    if quiet and verbose:
        raise fail("--quiet and --verbose cannot be used together")
    return ReportRequest(output_format.value, output_file, quiet, verbose, **more)


def _deliver(result: RunResult, request: ReportRequest, console) -> None:
    try:
        deliver(result, request, result.extra.get("rules", ()), console)  # type: ignore[arg-type]
    except OSError as exc:
        raise fail(f"{request.output_file}: cannot write the report: {exc.strerror or exc}") from None
ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="Configuration file to use instead of the one found (pyproject.toml or codefix.toml)."),
]
ForceExcludeOption = Annotated[
    Optional[bool],
    typer.Option("--force-exclude/--no-force-exclude", help="Skip excluded files even when named (as pre-commit names them).", show_default=False),
]


def _compute(
    paths: Optional[list[Path]],
    rules: list[str],
    fix: bool,
    flags: frozenset[str] = frozenset(),
    no_cache: bool = False,
    config_file: Optional[Path] = None,
    force_exclude: Optional[bool] = None,
    jobs: Optional[int] = None,
    quiet: bool = False,
) -> RunResult:
    chosen = tuple(paths or [Path(".")])
    missing = missing_paths(chosen)
    if missing:
        raise fail(f"{missing[0]}: no such file or folder")
    try:
        options = RunOptions(paths=chosen, rules=tuple(rules), fix=fix, flags=flags, use_cache=not no_cache)
        options = dataclasses.replace(options, config_file=config_file, force_exclude=force_exclude, jobs=jobs)
        started = time.perf_counter()
        progress = PhaseClock(progress_for(make_console(stderr=True), quiet))
        try:
            rules_run, result = execute(options, progress)
        finally:
            progress.close()
        # For the report formats and --verbose: the rules that really ran, and the time taken, by step.
        result.extra.update(
            rules=tuple(type(r) for r in rules_run), elapsed=time.perf_counter() - started, phases=progress.phases
        )
        return result
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


# --since, --baseline and --interactive: only new problems, and review (see baseline.py, interactive.py).
SinceOption = Annotated[
    Optional[str], typer.Option("--since", metavar="REV", help="Only findings on lines changed since this git revision.")
]
BaselineOption = Annotated[
    Optional[Path], typer.Option("--baseline", metavar="FILE", help="Only findings not recorded in this baseline file.")
]


@dataclasses.dataclass(frozen=True)
class _NewOnly:
    """What `--since` and `--baseline` compare against, read before the scan so that their errors come first."""

    since: Optional[str] = None
    changed: Optional[ChangedLines] = None
    baseline: Optional[Path] = None
    known: Optional[Baseline] = None


def _read_new_only(paths: Optional[list[Path]], since: Optional[str], baseline: Optional[Path], write: bool = False) -> _NewOnly:
    if write and (baseline is None or since is not None):
        raise fail("--write-baseline records every finding in the --baseline FILE; it needs --baseline and no --since")
    first = (paths or [Path(".")])[0]
    try:
        known = load_baseline(baseline) if baseline is not None and not write else None
        changed = changed_lines(find_project_root(first), since) if since is not None and first.exists() else None
    except (GitError, BaselineError) as exc:
        raise fail(str(exc)) from None
    return _NewOnly(since, changed, baseline, known)


def _only_new(result: RunResult, new_only: _NewOnly, quiet: bool = False) -> RunResult:
    """The findings (and fixes) that are new; says on stderr how many known ones were left out."""
    if new_only.changed is None and new_only.known is None:
        return result
    narrowed = only_new(result, new_only.changed, new_only.known)
    if narrowed.hidden and not quiet:
        reasons = []
        if new_only.changed is not None:
            reasons.append(f"unchanged since {new_only.since}")
        if new_only.known is not None:
            reasons.append(f"in {new_only.baseline}")
        why = " or ".join(reasons)
        make_console(stderr=True).print(Text(f"{plural(narrowed.hidden, 'known finding')} not shown ({why})."))
    return narrowed.result


def _write_baseline(result: RunResult, baseline: Path) -> typer.Exit:
    try:
        save_baseline(baseline, Baseline.of(result.findings, on_disk_source(result.root, result)))
    except BaselineError as exc:
        return fail(str(exc))
    make_console().print(Text(f"Recorded {plural(len(result.findings), 'finding')} in {baseline}."))
    return typer.Exit(EXIT_CLEAN)


def _review(result: RunResult) -> RunResult:
    """Ask about each hunk; keep only the accepted ones (files that no longer parse are reported, not written)."""
    console = make_console()
    decided = review(result.changes, console, line_reader(console))
    settled = settle(result, decided.finals)
    return dataclasses.replace(settled, errors=(*settled.errors, *decided.errors))


@app.command()
def scan(
    paths: PathsArgument = None,
    rule: RuleOption = [],  # noqa: B006 - typer reads the default
    output_format: FormatOption = OutputFormat.text,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    output_file: OutputFileOption = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Count findings per rule instead of listing them (text or json).")
    ] = False,
    show_fixes: ShowFixesOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    no_color: NoColorOption = False,
    no_cache: NoCacheOption = False,
    jobs: JobsOption = None,
    config_file: ConfigOption = None,
    force_exclude: ForceExcludeOption = None,
    since: SinceOption = None,
    baseline: BaselineOption = None,
    write_baseline: Annotated[
        bool, typer.Option("--write-baseline", help="Record every finding in the --baseline FILE (replacing it); exit 0.")
    ] = False,
) -> None:
    """Report findings; change nothing."""
    request = _report_request(output_format, output_file, quiet, verbose, show_fixes=show_fixes, statistics=statistics)
    if statistics and output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail("--statistics works with --format text or json")
    new_only = _read_new_only(paths, since, baseline, write_baseline)
    result = _compute(
        paths, rule, fix=False, no_cache=no_cache, config_file=config_file, force_exclude=force_exclude, jobs=jobs, quiet=quiet
    )
    if write_baseline and baseline is not None:
        raise _write_baseline(result, baseline)
    result = _only_new(result, new_only, quiet)
    _deliver(result, request, make_console())
    if show_fixes:
        show_fixes_of(request.human_console(), [f for f in result.findings if f.fixable], "`codefix apply` would fix")
    if verbose:
        print_verbose(result)
    raise typer.Exit(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


@app.command()
def apply(
    paths: PathsArgument = None,
    rule: RuleOption = [],  # noqa: B006
    dry_run: Annotated[bool, typer.Option("--dry-run", "--diff", help="Print the diff; touch no source file.")] = False,
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
    jobs: JobsOption = None,
    output_format: FormatOption = OutputFormat.text,
    output_file: OutputFileOption = None,
    show_fixes: ShowFixesOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    no_color: NoColorOption = False,
    config_file: ConfigOption = None,
    force_exclude: ForceExcludeOption = None,
    since: SinceOption = None,
    baseline: BaselineOption = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Show each hunk and ask: y apply, n skip, a all, q quit.")
    ] = False,
) -> None:
    """Rewrite what is safely fixable, saving a patch that undoes it."""
    if not rule:
        raise fail("apply needs at least one --rule ID, or `--rule selected` for the configured rules (see `codefix rules`)")
    request = _report_request(output_format, output_file, quiet, verbose, show_fixes=show_fixes)
    if interactive:
        try:
            require_terminal()
        except NotATerminal as exc:
            raise fail(str(exc)) from None
    new_only = _read_new_only(paths, since, baseline)
    flags = frozenset(name for name, on in (("describe", describe), ("fix-typos", fix_typos), ("dedupe", dedupe)) if on)
    result = _compute(
        paths, rule, fix=True, flags=flags, no_cache=no_cache, config_file=config_file, force_exclude=force_exclude,
        jobs=jobs, quiet=quiet,
    )
    result = _only_new(result, new_only, quiet)
    if interactive:
        result = _review(result)
    changes = result.changes
    errors = list(result.errors)
    title = ", ".join(rule) or "default rules"
    patch_path = None
    interrupted = False
    not_tried = 0
    if dry_run:
        print_diff(request.human_console(), render_diff(changes))
        report_console = request.human_console(stderr=True)
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
        report_console = request.human_console()
    _deliver(RunResult(**{**result.__dict__, "errors": tuple(errors), "changes": changes}), request, report_console)
    fixed = len(result.fixed) if changes or dry_run else 0
    verb = "Would fix" if dry_run else "Fixed"
    line = f"{verb} {plural(fixed, 'finding')} in {plural(len(changes), 'file')}."
    if patch_path is not None and dry_run:
        line += f" Patch saved to {patch_path}; no source file was changed."
    elif patch_path is not None:
        line += f" Patch: {patch_path} (undo with `codefix revert {patch_path}`)."
    if not quiet:
        report_console.print(Text(line, style="bold"))
    if show_fixes:
        written = {change.path for change in changes}
        show_fixes_of(report_console, [f for f in result.fixed if f.path in written], verb)
    if verbose:
        print_verbose(result)
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


@app.command(name="config")
def show_config(
    path: Annotated[Optional[Path], typer.Argument(help="A file or folder of the project (default: .).", show_default=False)] = None,
    config_file: ConfigOption = None,
) -> None:
    """Print the effective configuration as TOML, noting where each value came from."""
    start = path or Path(".")
    if not start.exists():
        raise fail(f"{start}: no such file or folder")
    root = find_project_root(start)
    try:
        text = render_config(load_config(root, start, config_file), root)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    make_console().file.write(text)


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
        from rich.markdown import Markdown  # ~50 ms of imports only `explain` needs

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
