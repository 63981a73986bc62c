"""The engine: from paths to findings and file changes. It never prints.

One pass per file: a cheap text prefilter per rule, a LibCST parse only when
some rule may match, the rules' reports, then (for apply) their fixes, a check
that the result parses, and a re-scan of the result so that what is reported
afterwards is what really remains. Per-file failures become `FileError`s;
the run goes on.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codefix.config import Config, load_config, select_rules
from codefix.config_targets import widen_for_named_configs
from codefix.discovery import (
    Exclusion,
    ProjectWalk,
    find_project_root,
    forget_resolutions,
    outside_root,
    relative_name,
    relative_name_of_resolved,
    walk_project,
)
from codefix.index import IndexBuilder, ModuleInfo, ProjectIndex, partial_text
from codefix import pyast
from codefix.parallel import forks, ordered_map
from codefix.progress import NoProgress, Progress
from codefix.reduction import Reduced, reduce_source, splice_back, split_lines
from codefix.resolution import Resolver
from codefix.screening import analysis_cut, screened_index
from codefix.index_cache import CACHE_DIR
from codefix.results_memo import Outcome, ResultsMemo, project_rule_key, project_state, recall
from codefix.shortcut import command_key, shortcut_entry, state_handed_over, vouches_for_path, walk_handed_over
from codefix.rules.base import FileContext, NeedleSightings, ProjectContext, ProjectRule, Report, Rule
from codefix.sourcefile import SourceError, SourceFile, content_error, read_source
from codefix.suppression import is_suppressed, suppressions
from codefix.types import FileChange, FileError, Finding, RunResult
from codefix.lazy_libcst import cst, load as load_libcst


@dataclass(frozen=True)
class RunOptions:
    paths: tuple[Path, ...]
    #: Rule ids from `--rule`; empty means the rules enabled by default.
    rules: tuple[str, ...] = ()
    #: Compute fixes (apply); writing them is the caller's decision.
    fix: bool = False
    #: Switches of `apply` that widen what rules fix (`fix-typos`, `dedupe`, `describe`).
    flags: frozenset[str] = frozenset()
    #: Read and update the index cache under `.codefix_cache/` (`--no-cache` turns it off).
    use_cache: bool = True
    #: `--config FILE`: this file instead of the one found from the first path.
    config_file: Path | None = None
    #: `--force-exclude`/`--no-force-exclude`; None keeps the configuration's `force-exclude`.
    force_exclude: bool | None = None
    #: Worker processes for indexing and for analysing files (`--jobs`); None: one per CPU.
    jobs: int | None = None


@dataclass
class Project:
    """What a run knows about the project before it looks at any file."""

    root: Path
    config: Config
    rules: list[Rule]
    index: ProjectIndex
    resolver: Resolver
    targets: list[Path] = field(default_factory=list)
    #: Folders under the given paths that could not be listed, with the reason.
    unlistable: list[tuple[Path, str]] = field(default_factory=list)
    #: Files the screening never parsed: no rule can report anything in them (screening.py).
    skipped: frozenset[str] = frozenset()
    #: Which files hold the project rules' needles, as the screening read them.
    needles: NeedleSightings | None = None


@dataclass
class ProjectPlan:
    """What a run knows before it indexes anything: quick to make, and all a remembered scan needs."""

    root: Path
    config: Config
    exclusion: Exclusion
    rules: list[Rule]
    targets: list[Path]
    unlistable: list[tuple[Path, str]]
    #: The walk the index is built from: every Python file of the project, as text.
    walk: ProjectWalk

    @property
    def file_texts(self) -> list[str]:
        return self.walk.file_texts

    @property
    def files(self) -> list[Path]:
        """The walk's files as pathlib paths, made on first use: a one-file scan needs none of them."""
        return self.walk.files

    @functools.cached_property
    def outside_files(self) -> list[Path]:
        """Targets outside the root (`codefix scan ../other.py`): indexed too."""
        return outside_root(self.targets, self.root)


def plan_project(options: RunOptions) -> ProjectPlan:
    """Root, configuration, rules, targets and the project's files; raises ConfigurationError on bad input."""
    forget_resolutions()
    paths = options.paths or (Path("."),)
    root = find_project_root(paths[0])
    config = load_config(root, paths[0], options.config_file)
    exclusion = config.exclusion(root, options.force_exclude)
    rules = widen_for_named_configs(select_rules(config, options.rules, options.flags), paths, root, exclusion)
    walk = walk_handed_over(root, paths, exclusion) or walk_project(root, paths, exclusion)
    return ProjectPlan(root, config, exclusion, rules, walk.targets, walk.unlistable, walk)


def load_project(
    options: RunOptions,
    plan: ProjectPlan | None = None,
    progress: Progress | None = None,
    signatures: dict[str, tuple[int, int] | None] | None = None,
) -> Project:
    """The plan, plus the project index and rules prepared on it; `signatures`: the files' stats already taken (`project_state`)."""
    plan = plan or plan_project(options)
    progress = progress or NoProgress()
    workers = options.jobs or os.cpu_count() or 1
    builder = IndexBuilder(
        plan.root,
        plan.file_texts,
        plan.outside_files,
        options.use_cache,
        workers,
        plan.config.cache_dir(plan.root),
        plan.walk.linked_texts,
        signatures,
    )
    named = {relative_name(path, plan.root) for path in options.paths or () if not path.is_dir()}
    named.update(relative_name(path, plan.root) for path in plan.outside_files)
    targets = [relative_name_of_resolved(target, plan.root) for target in plan.targets]
    screened = screened_index(builder, plan.rules, named, workers, progress, targets)
    index = screened.index
    resolver = Resolver(index)
    progress.phase("Preparing", 0)
    for rule in plan.rules:
        rule.prepare(index, resolver)
    return Project(
        plan.root, plan.config, plan.rules, index, resolver, plan.targets, plan.unlistable, screened.skipped, screened.needles
    )


def execute(options: RunOptions, progress: Progress | None = None) -> tuple[list[Rule], RunResult]:
    """A whole run: for a scan with the cache on, what the results memo still holds is not redone."""
    progress = progress or NoProgress()
    progress.phase("Walking", 0)
    plan = plan_project(options)
    memo = None
    signatures: dict[str, tuple[int, int] | None] = {}
    if options.use_cache and not options.fix:
        files = [*plan.file_texts, *map(str, plan.outside_files)]
        run_key = _run_key(plan.rules, options)
        handed = state_handed_over(plan.file_texts, run_key, plan.config.source)
        if handed is not None:
            state, signatures = handed
        else:
            state = project_state(plan.root, files, run_key, plan.config.source, signatures)
        memo = ResultsMemo(plan.config.cache_dir(plan.root), state)
        _record_shortcut(memo, plan, options, run_key)
        remembered = _remembered_scan(plan, memo)
        if remembered is not None:
            memo.save()
            return plan.rules, remembered
    project = load_project(options, plan, progress, signatures)
    result = run(options, project, memo, progress)
    if memo is not None:
        memo.save()
    return project.rules, result


def _record_shortcut(memo: ResultsMemo, plan: ProjectPlan, options: RunOptions, run_key: str) -> None:
    """Let the next run of this command answer from the memo before loading the rules (see shortcut.py).

    Only for the commands shortcut.py accepts: Python files and folders as
    paths (a named pytest configuration widens the project rules' files) and
    the cache in its default folder, where the shortcut looks for it.
    """
    if options.flags or plan.config.cache_dir(plan.root) != plan.root / CACHE_DIR:
        return
    if not all(vouches_for_path(str(path)) for path in options.paths):
        return
    config_file = os.path.abspath(options.config_file) if options.config_file is not None else None
    key = command_key(options.rules, config_file, options.force_exclude)
    per_file = any(not isinstance(rule, ProjectRule) for rule in plan.rules)
    project_rules = [rule.id for rule in plan.rules if isinstance(rule, ProjectRule)]
    memo.record_shortcut(key, shortcut_entry(plan.root, plan.config.source, plan.exclusion, run_key, per_file, project_rules))


def _run_key(rules: Sequence[Rule], options: RunOptions) -> str:
    """What about the run, besides the files, decides its findings."""
    described = [(rule.id, type(rule).__qualname__, rule.settings, sorted(rule.flags)) for rule in rules]
    return json.dumps([described, sorted(options.flags)], sort_keys=True, default=repr)


def _project_rule_key(rule: ProjectRule, root: Path, targets: Sequence[Path], known: dict[Path, str] | None = None) -> str:
    """The memo key of a project rule's outcome; `known` holds relative names already computed."""
    known = known or {}
    return project_rule_key(rule.id, (known.get(target) or relative_name(target, root) for target in rule.checked_files(targets)))


def _remembered_scan(plan: ProjectPlan, memo: ResultsMemo) -> RunResult | None:
    """The scan's result entirely from the memo, or None when any file or rule is missing from it."""
    names = {target: relative_name_of_resolved(target, plan.root) for target in plan.targets}
    per_file = any(not isinstance(rule, ProjectRule) for rule in plan.rules)
    keys = [_project_rule_key(rule, plan.root, plan.targets, names) for rule in plan.rules if isinstance(rule, ProjectRule)]
    return recall(memo, plan.root, plan.targets, names, plan.unlistable, per_file, keys)


@dataclass
class FileOutcome:
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    change: FileChange | None = None
    error: FileError | None = None


def _syntax_error_message(exc: Exception) -> str:
    if isinstance(exc, cst.ParserSyntaxError):
        return f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"
    if isinstance(exc, SyntaxError):
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    return f"cannot parse: {type(exc).__name__}: {exc}"


class FileAnalysis:
    """Runs the rules over one file: reports, findings, and fixes."""

    def __init__(self, project: Project, path: Path, rules: Sequence[Rule]):
        self.project = project
        self.rules = rules
        self.path = path
        self.relative = relative_name(path, project.root)
        #: The context of each module analysed, by identity (the module is kept, so its id stays its own).
        self._contexts: dict[int, tuple[cst.Module, Sequence[int] | None, FileContext]] = {}

    def context(self, module: cst.Module, original_lines: Sequence[int] | None = None, text: str | None = None) -> FileContext:
        """The module's context, made once per module: its metadata is most of an analysis.

        Fixing asks for the reports of one rule after another on the same
        rewritten module (see `fix`); each used to compute that module's
        scopes, positions and parents again. Rules only read a context.
        """
        known = self._contexts.get(id(module))
        if known is not None and known[1] is original_lines:
            return known[2]
        context = FileContext(
            path=self.relative,
            wrapper=cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True),
            module_info=self.project.index.module_at(self.relative),
            index=self.project.index,
            resolver=self.project.resolver,
            original_lines=original_lines,
            text=text,
        )
        self._contexts[id(module)] = (module, original_lines, context)
        return context

    def reports(
        self, module: cst.Module, text: str, rules: Sequence[Rule], original_lines: Sequence[int] | None = None
    ) -> list[tuple[Rule, Report, Finding]]:
        """Unsuppressed reports of `rules` on `module` (maybe a reduced copy of `text`), in source order."""
        context = self.context(module, original_lines, text)
        suppressed = suppressions(text)
        results = []
        for rule in rules:
            for report in rule.check(context):
                finding = self.finding(context, rule, report)
                lines = (finding.line, finding.end_line)
                if not is_suppressed(suppressed, rule.id, lines):
                    results.append((rule, report, finding))
        results = _without_generalized_duplicates(results)
        results.sort(key=lambda item: item[2].sort_key())
        return results

    def finding(self, context: FileContext, rule: Rule, report: Report) -> Finding:
        span = context.positions[report.node]
        return Finding(
            rule=rule.id,
            path=self.relative,
            line=span.start.line,
            col=span.start.column + 1,
            end_line=span.end.line,
            end_col=span.end.column + 1,
            message=report.message,
            fixable=report.fix is not None,
        )

    def run(self, fix: bool) -> FileOutcome:
        try:
            source = read_source(self.path)
        except SourceError as exc:
            return FileOutcome(error=FileError(self.relative, str(exc)))
        module_info = self.project.index.module_at(self.relative)
        # A file nobody imports may have been indexed without the scopes no rule can need
        # (screening.py): finding works on that same text; a fix goes into the whole file.
        # A large module others import is indexed whole, but its own analysis is cut alike.
        emptied = self.project.index.partial.get(self.relative, ())
        if not emptied and module_info is not None and REDUCE and source.text.count("\n") >= CUT_FROM_LINES:
            cut = analysis_cut(source.text, self.rules, lambda: module_info.package)
            if cut is None:  # no line where a rule may report
                return FileOutcome()
            emptied = cut
        text = partial_text(source.text, emptied) if emptied else source.text
        active = [
            rule
            for rule in self.rules
            if rule.might_match(text) and (module_info is None or rule.has_candidates(module_info, self.project.index))
        ]
        if not active:
            return FileOutcome()
        searched = self.find(text, source.text, active, module_info, emptied)
        if isinstance(searched, FileError):
            return FileOutcome(error=searched)
        module, reduced, found = searched
        outcome = FileOutcome(findings=[f for _, _, f in found])
        if not fix or not any(report.fix for _, report, _ in found):
            return outcome
        rewritten = self.rewrite(source.text, module, reduced, active, found) if reduced is not None else None
        if rewritten is None:  # fixed on the whole file: a fix reached lines the reduced copy left out
            if reduced is not None:
                module = parse_text(source.text)
                found = self.reports(module, source.text, active)
            rewritten = self.rewrite(source.text, module, None, active, found)
        return self.fixed(source, rewritten, active, found, outcome)

    def find(
        self,
        text: str,
        whole_text: str,
        active: Sequence[Rule],
        module_info: ModuleInfo | None,
        emptied: Sequence[tuple[int, int]] = (),
    ) -> tuple[cst.Module | None, Reduced | None, list[tuple[Rule, Report, Finding]]] | FileError:
        """The module LibCST read (None: no rule has a site), its reduced copy if one, and the reports.

        `text` is what the rules read, `whole_text` the file (they differ by
        the lines the screening `emptied`).
        """
        reduced = self.reduced(text, active, module_info, emptied) if REDUCE or emptied else None
        if reduced is NO_SITES:
            return None, None, []
        module = self._parse(reduced.text) if reduced is not None else None
        if not isinstance(module, cst.Module):  # no reduced copy, or one LibCST rejects: the whole file decides
            reduced = None
            text = whole_text
            module = self._parse(whole_text)
            if isinstance(module, FileError):
                return module
        return module, reduced, self.reports(module, text, active, reduced.original_lines if reduced else None)

    def _parse(self, text: str) -> cst.Module | FileError:
        """LibCST's module, or this file's error; said plainly when CPython parses the file (the index did)."""
        try:
            return parse_text(text)
        except Exception as exc:  # noqa: BLE001 - any parser failure is this file's error
            message = _syntax_error_message(exc)
            if isinstance(exc, cst.ParserSyntaxError) and self.project.index.module_at(self.relative) is not None:
                message = f"LibCST cannot parse this file, though CPython can: {message}"
            return FileError(self.relative, message)

    def reduced(
        self, text: str, active: Sequence[Rule], module_info: ModuleInfo | None, emptied: Sequence[tuple[int, int]] = ()
    ) -> Reduced | None:
        """The copy of the text LibCST needs for the candidate sites, or None to analyse it all.

        Lines the screening `emptied` are always left out. `NO_SITES` when no
        rule names a line where it may report (`Rule.site_lines`): the text
        passed the rules' prefilters, but nothing in it can be a finding.
        """
        try:
            tree = pyast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None  # LibCST's parse reports what is wrong
        sites: set[int] = set()
        for rule in active:
            lines = rule.site_lines(tree, module_info, self.project.index, text) if REDUCE else None
            if lines is None:  # anywhere: only the emptied lines can go
                if not emptied:
                    return None
                sites = set(range(1, len(split_lines(text)) + 1))
                break
            sites |= lines
        if not sites:
            return NO_SITES
        looked_up = frozenset().union(*(rule.looked_up_names() for rule in active))
        return reduce_source(text, tree, sites, emptied, looked_up)

    def rewrite(
        self,
        text: str,
        module: cst.Module,
        reduced: Reduced | None,
        active: Sequence[Rule],
        found: list[tuple[Rule, Report, Finding]],
    ) -> _Rewrite | None:
        """The file after each rule's fixes in turn, re-analysed in between so fixes never collide.

        A rule whose fixes overlap (one rewrites a block holding another's
        site) gets further passes over its own output, up to MAX_FIX_PASSES.
        With `reduced`, `module` is the reduced copy: it is what is
        rewritten, each step's changes going back into the file
        (`splice_back`); None when one cannot.
        """
        current = module
        numbers = reduced.original_lines if reduced is not None else None
        fixing_rules: set[str] = set()
        for rule in active:
            reports = [r for owner, r, _ in found if owner is rule and r.fix is not None]
            for _ in range(MAX_FIX_PASSES):
                if current is not module:
                    fresh = self.reports(current, text, [rule], numbers)
                    reports = [r for _, r, _ in fresh if r.fix is not None]
                if not reports:
                    break
                rewritten = apply_reports(current, reports)
                if rewritten.code == current.code:
                    break
                if numbers is None:
                    text = rewritten.code
                else:
                    spliced = splice_back(text, Reduced(current.code, numbers), rewritten.code)
                    if spliced is None:
                        return None
                    text, numbers = spliced[0], spliced[1].original_lines
                current = rewritten
                fixing_rules.add(rule.id)
        return _Rewrite(text, current, numbers, fixing_rules)

    def fixed(
        self,
        source: SourceFile,
        rewritten: _Rewrite,
        active: Sequence[Rule],
        found: list[tuple[Rule, Report, Finding]],
        outcome: FileOutcome,
    ) -> FileOutcome:
        """The outcome of a rewrite: the change if the new bytes parse, and what remains to report in them.

        What remains is read from the last module the fixes produced (the
        reduced copy, when the fixes went through one): the rules already
        analysed it, or a copy of it, and its metadata is at hand.
        """
        new_text = rewritten.text
        if new_text == source.text:
            return outcome
        try:
            new_bytes = source.encode(new_text)
        except UnicodeEncodeError as exc:
            outcome.error = FileError(self.relative, f"fix not applied: the rewritten file would not be valid ({exc})")
            return outcome
        problem = content_error(self.relative, new_bytes)
        if problem is not None:
            outcome.error = FileError(self.relative, f"fix not applied: the rewritten file would not be valid ({problem})")
            return outcome
        remaining = self.reports(rewritten.module, new_text, active, rewritten.numbers)
        # Every fixable site was found in the original; later passes only
        # apply overlapping ones in steps, so these are the fixed findings.
        fixed = [f for _, r, f in found if r.fix is not None and f.rule in rewritten.fixing_rules]
        return FileOutcome(
            findings=[f for _, _, f in remaining],
            fixed=fixed,
            change=FileChange(
                path=self.relative,
                before=source.raw,
                after=new_bytes,
                encoding=source.encoding,
                rules=tuple(dict.fromkeys(f.rule for f in fixed)),
                checked=new_bytes,
            ),
        )


@dataclass
class _Rewrite:
    """A file after its fixes (`FileAnalysis.rewrite`)."""

    text: str
    #: The last module the fixes produced: the reduced copy's, or the whole file's.
    module: cst.Module
    #: The file's line of each line of `module`, when it is a reduced copy.
    numbers: Sequence[int] | None
    #: The rules whose fixes changed something.
    fixing_rules: set[str]


def _without_generalized_duplicates(
    results: list[tuple[Rule, Report, Finding]],
) -> list[tuple[Rule, Report, Finding]]:
    """Drop a general rule's report where the narrower rule it generalizes reports the same code."""
    narrow = {(rule.id, id(report.node)) for rule, report, _ in results}
    return [
        item
        for item in results
        if item[0].generalizes is None or (item[0].generalizes, id(item[1].node)) not in narrow
    ]


def parse_text(text: str) -> cst.Module:
    return cst.parse_module(text)


MAX_FIX_PASSES = 5
#: What `FileAnalysis.reduced` gives for a file where no rule has a site.
NO_SITES = Reduced("", ())
#: Hand LibCST a copy of each candidate file without the functions that hold
#: no candidate site (reduction.py); False analyses whole files (tests compare).
REDUCE = True
#: Modules indexed whole are cut for their own analysis from this size on (`screening.analysis_cut`);
#: below it, the cut costs about what the `ast` parse it saves does.
CUT_FROM_LINES = 300


def apply_reports(module: cst.Module, reports: Sequence[Report]) -> cst.Module:
    """The module with each report's fix made (report_fixer.py)."""
    from codefix.report_fixer import apply_reports as apply

    return apply(module, reports)


def analyse_file(project: Project, path: Path, rules: Sequence[Rule], fix: bool) -> FileOutcome:
    """One file's outcome; a crash inside a rule becomes this file's error, not the run's end.

    Such a crash is a bug in codefix: the message says so and asks for a
    report, and the run goes on with the next file.
    """
    try:
        return FileAnalysis(project, path, rules).run(fix)
    except RecursionError:
        return FileOutcome(error=FileError(relative_name(path, project.root), "too deeply nested to analyse"))
    except Exception as exc:  # noqa: BLE001 - see docstring
        message = f"internal error, please report it: {type(exc).__name__}: {exc}"
        return FileOutcome(error=FileError(relative_name(path, project.root), message))


def _analyse_path(path: Path, project: Project, rules: Sequence[Rule], fix: bool) -> FileOutcome:
    """`analyse_file` with the path first, as `ordered_map` calls it."""
    return analyse_file(project, path, rules, fix)


def run(
    options: RunOptions, project: Project | None = None, memo: ResultsMemo | None = None, progress: Progress | None = None
) -> RunResult:
    """Scan (or compute fixes for) the files named by `options`; a scan reuses and fills `memo`."""
    project = project or load_project(options)
    progress = progress or NoProgress()
    findings: list[Finding] = []
    fixed: list[Finding] = []
    errors = [FileError(relative_name(folder, project.root), reason) for folder, reason in project.unlistable]
    changes: list[FileChange] = []
    file_rules = [rule for rule in project.rules if not isinstance(rule, ProjectRule)]
    progress.phase("Checking", len(project.targets) if file_rules else 0)
    # Each target's outcome: remembered, an index error, or (None) to analyse, in workers when many.
    names = {target: relative_name_of_resolved(target, project.root) for target in project.targets}
    planned: list[tuple[str, FileOutcome | Outcome | None]] = []
    for path in project.targets if file_rules else ():
        relative = names[path]
        remembered = memo.get(relative) if memo is not None else None
        index_error = project.index.errors.get(relative)
        if remembered is not None:
            planned.append((relative, remembered))
        elif relative in project.skipped:
            planned.append((relative, FileOutcome()))
        elif index_error is not None:
            planned.append((relative, FileOutcome(error=FileError(relative, index_error))))
        else:
            planned.append((relative, None))
    to_analyse = [path for path, (_, known) in zip(project.targets, planned) if known is None]
    workers = options.jobs or os.cpu_count() or 1
    if forks(len(to_analyse), workers):
        load_libcst()  # once, before the workers fork, rather than in each of them
    analysed = ordered_map(_analyse_path, to_analyse, (project, file_rules, options.fix), workers)
    for relative, known in planned:
        progress.advance()
        if isinstance(known, Outcome):
            findings.extend(known.findings)
            errors.extend(known.errors)
            continue
        outcome = known if known is not None else next(analysed)
        findings.extend(outcome.findings)
        fixed.extend(outcome.fixed)
        if outcome.error:
            errors.append(outcome.error)
        if outcome.change:
            changes.append(outcome.change)
        if memo is not None:
            memo.put(relative, Outcome(outcome.findings, [outcome.error] if outcome.error else []))
    analysed.close()  # every outcome was taken: this ends the workers
    for rule in project.rules:
        if isinstance(rule, ProjectRule):
            key = _project_rule_key(rule, project.root, project.targets, names)
            remembered = memo.get(key) if memo is not None else None
            if remembered is not None:
                findings.extend(remembered.findings)
                errors.extend(remembered.errors)
                continue
            progress.phase(rule.id, 0)
            context = ProjectContext(
                project.root, project.targets, project.index, project.resolver, options.fix, options.jobs, project.needles
            )
            result = rule.check_project(context)
            kept = unsuppressed(project.root, result.findings)
            findings.extend(kept)
            fixed.extend(result.fixed)
            errors.extend(result.errors)
            changes = merge_changes(changes, result.changes, errors)
            if memo is not None:
                memo.put(key, Outcome(kept, list(result.errors)))
    return RunResult(
        root=project.root,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        errors=tuple(errors),
        changes=tuple(changes),
        fixed=tuple(fixed),
        files_checked=len(project.targets),
    )


def unsuppressed(root: Path, findings: Sequence[Finding]) -> list[Finding]:
    """Drop project-rule findings in Python files that carry `# codefix: ignore`."""
    tables: dict[str, dict[int, frozenset[str]]] = {}
    kept = []
    for finding in findings:
        if finding.path.endswith(".py"):
            if finding.path not in tables:
                try:
                    tables[finding.path] = suppressions(read_source(root / finding.path).text)
                except SourceError:
                    tables[finding.path] = {}
            if is_suppressed(tables[finding.path], finding.rule, (finding.line, finding.end_line)):
                continue
        kept.append(finding)
    return kept


def merge_changes(
    changes: list[FileChange], new: Sequence[FileChange], errors: list[FileError]
) -> list[FileChange]:
    """Add a project rule's changes; a file already changed by another rule is left to a second run."""
    taken = {change.path for change in changes}
    merged = list(changes)
    for change in new:
        if change.path in taken:
            errors.append(FileError(change.path, "changed by two rules in one run; run `codefix apply` again for the rest"))
            continue
        merged.append(change)
    return merged
