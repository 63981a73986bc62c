"""Rule `pytest-markers`: markers used by tests but not registered in the configuration pytest reads."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codefix.discovery import relative_name, relative_name_of_resolved
from codefix.parallel import ordered_map
from codefix.rules._marker_names import BUILTIN_MARKERS, PLUGIN_MARKERS, likely_typo
from codefix.rules._marker_uses import (
    MARKER_NEEDLE,
    MarkerScanError,
    MarkerUse,
    ModuleMarkers,
    scan_file,
)
from codefix.rules._pytest_config import (
    ConfigLocator,
    Located,
    PytestConfig,
    marker_name,
)
from codefix.rules.base import (
    ConfigurationError,
    Example,
    ProjectContext,
    ProjectOutcome,
    ProjectRule,
)
from codefix.sourcefile import SourceError, read_source
from codefix.suppression import is_suppressed, suppressions
from codefix.types import FileChange, FileError, Finding

PLACEHOLDER_DESCRIPTION = "TODO: describe"
#: Files pytest can take configuration from when the project has none yet, by preference.
CANDIDATES_TO_CREATE_IN = ("pyproject.toml", "tox.ini", "setup.cfg")


def _can_register(name: str) -> bool:
    """pytest reads back the same name from `name: description` (no `:`, `(`, newline or padding)."""
    return bool(name) and name == name.strip() and not any(char in name for char in ":(\n\r")


@dataclass
class _Group:
    """The test files one configuration file governs."""

    located: Located
    #: Markers registered for every file of the group (`registered_base`).
    base: frozenset[str]
    files: list[ModuleMarkers] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)


class _TypoJudge:
    """Likely typos against one set of registered names, each name judged once per run."""

    def __init__(self, registered: frozenset[str]):
        # A use is renamed to its suggestion, so only a name that can be
        # written as `pytest.mark.<name>` can be one.
        self.registered = frozenset(name for name in registered if name.isidentifier())
        self.cache: dict[str, str | None] = {}

    def of(self, name: str) -> str | None:
        if name not in self.cache:
            self.cache[name] = likely_typo(name, self.registered)
        return self.cache[name]


class PytestMarkers(ProjectRule):
    """
    ## What it does
    Finds every pytest marker the tests use, however it is spelled
    (`@pytest.mark.slow`, `pt.mark.slow` after `import pytest as pt`,
    `from pytest import mark`, `mk = pytest.mark` then `@mk.slow`,
    `pytestmark = [...]` at module or class level,
    `pytest.param(..., marks=...)`, `request.node.add_marker(...)`,
    `getattr(pytest.mark, "slow")`), and reports the ones that the
    configuration file pytest actually uses for those tests does not
    register. That file is found as pytest finds it: from the tests' folder
    upward, in each folder the first of `pytest.toml`, `.pytest.toml`,
    `pytest.ini`, `.pytest.ini`, `pyproject.toml` with
    `[tool.pytest.ini_options]` or pytest 9's native `[tool.pytest]`,
    `tox.ini` with `[pytest]`, and `setup.cfg` with `[tool:pytest]`; test
    trees governed by different files are handled separately. Markers
    registered with `config.addinivalue_line("markers", ...)` in a
    `conftest.py` of the test's folder or above (or in a module it names in
    `pytest_plugins`), pytest's own markers, markers of common plugins
    (pytest-asyncio, pytest-timeout, pytest-xdist, pytest-cov,
    pytest-benchmark, pytest-django, pytest-order, pytest-rerunfailures,
    anyio, trio and more) and `known_markers` count as registered.

    Also reported: a likely typo of a registered marker (`intergration` for
    `integration`; names differing only in a number, like `issue_1184` and
    `issue_1174`, are not typos), an entry listed twice in the marker list,
    a `markers` value that is not a list of strings,
    `[tool.pytest.ini_options]` beside other `[tool.pytest]` keys or tables
    (pytest 9 refuses to start), markers in a file pytest does not read
    (a `pyproject.toml` beside a `pytest.ini`), and `[tool.pytest]` in a
    project that pins pytest below 9, which ignores that table.

    ## Why is this bad?
    Under `--strict-markers` (or pytest 9's `strict = true`) one
    unregistered marker fails the collection of every test in the module, so
    a whole category of tests silently stops running in CI until someone
    reads the error. Without strict mode a misspelt marker only warns, and
    `-m integration` quietly skips the tests marked `intergration`.

    ## Example
    ```python
    # pyproject.toml: [tool.pytest.ini_options] markers = ["slow: long tests"]
    import pytest

    @pytest.mark.scalability
    def test_ten_thousand_users(): ...
    ```

    ## Use instead
    ```toml
    [tool.pytest.ini_options]
    markers = [
        "slow: long tests",
        "scalability: TODO: describe",
    ]
    ```

    ## Fix safety
    Safe: `codefix apply --rule pytest-markers` appends the missing markers,
    sorted, after the existing entries of the file pytest reads, and changes
    no other byte: `pyproject.toml` and `pytest.toml` through `tomlkit`
    (comments, order, quoting, inline or multi-line arrays kept; a missing
    key or table is created), ini-style files by inserting lines. Each entry
    reads `name: TODO: describe`; `--describe` writes the folder whose tests
    use it most instead. A marker is never added twice, and likely typos are
    never registered: `--fix-typos` renames them in the tests to the
    registered marker, and `--dedupe` removes duplicate entries. When the
    project pins pytest below 9, markers go to `[tool.pytest.ini_options]`,
    which that pytest reads, never to the native table. Files pytest would
    reject are reported and left alone; a project with no file to write
    into (only `.git`, no `pyproject.toml`, `tox.ini` or `setup.cfg`) gets
    the findings without a fix. Plugin markers are taken as registered
    without checking that the plugin is installed: codefix never runs the
    project's environment.

    ## Configuration
    `[tool.codefix.pytest-markers]`: `known_markers`, markers registered in
    ways codefix cannot see (a plugin of your own, markers added by a hook
    at run time), as names or `name: description` lines.
    """

    id = "pytest-markers"
    summary = "pytest marker not registered in the configuration pytest reads (fails under --strict-markers)"
    default_enabled = True
    options: Mapping[str, Any] = {"known_markers": []}
    text_needle = MARKER_NEEDLE
    examples = (
        Example("import pytest\n\n@pytest.mark.skip(reason='flaky network')\ndef test_download():\n    pass\n"),
        Example("import pytest\n\n@pytest.mark.asyncio\nasync def test_fetch():\n    pass\n"),
        Example("from pytest import mark\n\n@mark.parametrise('n', [1, 2])\ndef test_square(n):\n    pass\n", 1),
        Example("import pytest as pt\n\npytestmark = [pt.mark.asyncio_]\n", 1),
        Example("import pytest\n\nmk = pytest.mark\n\n@mk.xfial\ndef test_sync():\n    pass\n", 1),
    )

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
        settings = super().validate_settings(settings, where)
        known = settings.get("known_markers", [])
        if not isinstance(known, list) or not all(isinstance(name, str) and name.strip() for name in known):
            raise ConfigurationError(f"{where}: {cls.id}.known_markers must be a list of marker names")
        return settings

    def check_project(self, context: ProjectContext) -> ProjectOutcome:
        return _MarkerCheck(self, context).run()


def _scan_or_reason(job: tuple[Path, frozenset[str]]) -> ModuleMarkers | str:
    """`scan_file` unless the text shows only registered markers; a failure as its one-line reason."""
    path, registered = job
    try:
        return scan_file(path, registered)
    except MarkerScanError as exc:
        return str(exc)


class _MarkerCheck:
    """One run of the rule over a project: scan, judge, and (for apply) compute the edits."""

    def __init__(self, rule: PytestMarkers, context: ProjectContext):
        self.rule = rule
        self.context = context
        self.root = context.root
        self.flags = rule.flags
        self.known = frozenset(marker_name(entry) for entry in rule.settings["known_markers"])
        self.locator = ConfigLocator(self.root)
        self.outcome = ProjectOutcome()
        self.scans: dict[Path, ModuleMarkers] = {}
        self.scan_failed: set[Path] = set()
        #: Per configuration file: index of each repeated entry -> its finding.
        self.duplicates: dict[Path, dict[int, Finding]] = {}
        #: Per file to write: the file, marker name -> folders using it, the findings fixed.
        self.additions: dict[Path, tuple[PytestConfig, dict[str, Counter[str]], list[Finding]]] = {}
        #: Per target: the markers registered for it (its group's and its conftests'), set by `groups`.
        self.registered: dict[Path, frozenset[str]] = {}
        #: Per test file: typo'd uses to rename, with the registered name and the finding.
        self.renames: dict[Path, list[tuple[MarkerUse, str, Finding]]] = defaultdict(list)

    # --- reading ----------------------------------------------------------------------

    def relative(self, path: Path) -> str:
        return relative_name(path, self.root)

    def scan(self, path: Path) -> ModuleMarkers | None:
        if path in self.scans:
            return self.scans[path]
        if path in self.scan_failed:
            return None
        if self.relative(path) in self.context.index.errors:
            # Unreadable or unparsable: the engine reports the index's error
            # for this file; a second line about markers would only repeat it.
            self.scan_failed.add(path)
            return None
        try:
            self.scans[path] = scan_file(path)
        except MarkerScanError as exc:
            self.scan_failed.add(path)
            self.outcome.errors.append(FileError(self.relative(path), f"cannot read its pytest markers: {exc}"))
            return None
        return self.scans[path]

    def conftest_registrations(self, folders: Iterable[Path]) -> dict[Path, frozenset[str]]:
        """Markers each conftest.py registers (with its `pytest_plugins` modules), by its folder."""
        registered: dict[Path, frozenset[str]] = {}
        seen: set[Path] = set()
        for folder in folders:
            for base in (folder, *folder.parents):
                if base in seen or not base.is_relative_to(self.root):
                    break
                seen.add(base)
                conftest = base / "conftest.py"
                if conftest.is_file() and (scanned := self.scan(conftest)) is not None:
                    lines = list(scanned.registrations)
                    for plugin in scanned.plugins:
                        lines += self.plugin_registrations(plugin)
                    if lines:
                        registered[base] = frozenset(marker_name(line) for line in lines)
        return registered

    def plugin_registrations(self, module_name: str) -> list[str]:
        lines: list[str] = []
        for info in self.context.index.modules_named(module_name):
            scanned = self.scan(self.root / info.path)
            if scanned is not None:
                lines += scanned.registrations
        return lines

    def read_ahead(self, paths: list[Path], registered: dict[Path, frozenset[str]]) -> None:
        """Scan these files in worker processes (a monorepo's test files are thousands of `ast` parses).

        A file whose text shows that every marker it uses is in `registered`
        for it is not parsed: nothing in it can be reported.
        """
        errors = self.context.index.errors  # usually none: then no path need be made relative
        pending = [path for path in paths if path not in self.scans and not (errors and self.relative(path) in errors)]
        pending = self.without_needle(pending)
        workers = self.context.jobs or os.cpu_count() or 1
        jobs = [(path, registered[path]) for path in pending]
        for path, scanned in zip(pending, ordered_map(_scan_or_reason, jobs, (), workers)):
            if isinstance(scanned, str):
                self.scan_failed.add(path)
                self.outcome.errors.append(FileError(self.relative(path), f"cannot read its pytest markers: {scanned}"))
            else:
                self.scans[path] = scanned

    def without_needle(self, paths: list[Path]) -> list[Path]:
        """`paths` less the files the screening saw without the rule's `text_needle`, recorded as holding no marker.

        `scan_file` would read each only to find that (most files of a
        monorepo); the screening already read them all.
        """
        needles, needle = self.context.needles, self.rule.text_needle
        if needles is None or needle is None:
            return paths
        kept = []
        for path in paths:
            if needles.may_hold(needle, relative_name_of_resolved(path, self.root)):
                kept.append(path)
            else:
                self.scans[path] = ModuleMarkers(path)
        return kept

    def registered_base(self, located: Located) -> frozenset[str]:
        """Markers registered for every test of a group: pytest's and plugins', known ones, the configuration's."""
        config = located.config
        listed = config.registered if config is not None and config.style is not None else frozenset()
        return BUILTIN_MARKERS | PLUGIN_MARKERS.keys() | self.known | listed

    @staticmethod
    def in_scope(conftests: dict[Path, frozenset[str]], path: Path) -> frozenset[str]:
        """Markers the conftests above `path` register."""
        return frozenset().union(*(names for folder, names in conftests.items() if path.is_relative_to(folder)))

    def groups(self, conftests: dict[Path, frozenset[str]]) -> dict[Path | None, _Group]:
        groups: dict[Path | None, _Group] = {}
        group_of: dict[Path, _Group] = {}
        # Per folder, by its text: a test suite has thousands of files in a few hundred folders,
        # and making each file's parent a Path to look it up cost more than the rest of this loop.
        by_folder: dict[str, tuple[_Group, frozenset[str]]] = {}
        for path in self.context.targets:
            folder = os.path.dirname(path)
            known = by_folder.get(folder)
            if known is None:
                located = self.locator.locate(path.parent)
                key = located.config.path if located.config is not None else None
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(located, self.registered_base(located))
                known = by_folder[folder] = (group, group.base | self.in_scope(conftests, path))
            group, self.registered[path] = known
            group.paths.append(path)
            group_of[path] = group
        self.read_ahead(list(self.context.targets), self.registered)
        for path in self.context.targets:
            scanned = self.scan(path)
            if scanned is not None and (scanned.uses or scanned.registrations):
                group_of[path].files.append(scanned)
        return groups

    # --- judging ----------------------------------------------------------------------

    def write_target(self, group: _Group) -> tuple[PytestConfig | None, str | None]:
        """The file new markers of `group` go into, or why there is none."""
        config = group.located.config
        if config is None:
            config = self.file_to_create_in(group.paths)
        if config is None:
            return None, "no pyproject.toml, tox.ini, setup.cfg or pytest.ini to register it in (codefix does not create files)"
        if not config.path.is_relative_to(self.root):
            return None, f"{config.path} is outside the project"
        reason = config.unwritable_reason
        return (None, reason) if reason else (config, None)

    def file_to_create_in(self, paths: list[Path]) -> PytestConfig | None:
        """For tests no configuration governs: the nearest file pytest would read a new section from."""
        common = Path(*_common_parts([p.parent.parts for p in paths])) if paths else self.root
        for base in (common, *common.parents):
            if not base.is_relative_to(self.root):
                return None
            for name in CANDIDATES_TO_CREATE_IN:
                if (base / name).is_file():
                    return self.locator.load(base / name)
        return None

    def where(self, config: PytestConfig) -> str:
        """`services/api/tox.ini [pytest]`, for messages."""
        style = config.create_style
        return f"{self.relative(config.path)} {style.label}" if style else self.relative(config.path)

    def config_finding(self, config: PytestConfig, line: int, message: str, fixable: bool) -> Finding:
        """A finding on a configuration file, spanning the text of its line."""
        col, end_col = _line_span(config.raw, line)
        return Finding(self.rule.id, self.relative(config.path), line, col, line, end_col, message, fixable)

    def use_finding(self, module: ModuleMarkers, use: MarkerUse, message: str, fixable: bool) -> Finding:
        return Finding(self.rule.id, self.relative(module.path), use.line, use.col, use.end_line, use.end_col, message, fixable)

    def run(self) -> ProjectOutcome:
        conftests = self.conftest_registrations({path.parent for path in self.context.targets})
        groups = self.groups(conftests)
        everywhere = frozenset().union(*conftests.values()) if conftests else frozenset()
        reported_configs: set[Path] = set()
        for group in groups.values():
            target, reason = self.write_target(group)
            self.report_config(group.located, reported_configs)
            config = group.located.config
            ignored_names = {entry.name: other for other, _ in group.located.ignored for entry in other.entries}
            typos = _TypoJudge(group.base | everywhere)
            for module in group.files:
                for use in self.unregistered_uses(module, self.registered[module.path]):
                    self.judge(module, use, target=target, config=config, reason=reason, typos=typos, ignored_names=ignored_names)
        if self.context.fix:
            self.fix()
        return self.outcome

    def unregistered_uses(self, module: ModuleMarkers, registered: frozenset[str]) -> list[MarkerUse]:
        uses = [use for use in module.uses if use.name not in registered]
        if not uses:
            return []
        try:
            table = suppressions(read_source(module.path).text)
        except SourceError:
            table = {}
        return [use for use in uses if not is_suppressed(table, self.rule.id, (use.line, use.end_line))]

    def judge(
        self,
        module: ModuleMarkers,
        use: MarkerUse,
        *,
        target: PytestConfig | None,
        config: PytestConfig | None,
        reason: str | None,
        typos: _TypoJudge,
        ignored_names: dict[str, PytestConfig],
    ) -> None:
        name = use.name
        if name.startswith("_"):
            message = f"'{name}' cannot be a marker: pytest raises AttributeError for names starting with '_'"
            self.outcome.findings.append(self.use_finding(module, use, message, False))
            return
        typo = typos.of(name)
        if typo is not None:
            fixable = "fix-typos" in self.flags and use.renamable
            message = f"marker '{name}' is not registered; it looks like a typo of '{typo}' (`apply --fix-typos` renames it)"
            finding = self.use_finding(module, use, message, fixable)
            self.outcome.findings.append(finding)
            if fixable:
                self.renames[module.path].append((use, typo, finding))
            return
        shown = target or config
        where = self.where(shown) if shown is not None else "any pytest configuration"
        message = f"marker '{name}' is not registered in {where}; pytest --strict-markers fails on it"
        if name in ignored_names:
            message += f" (it is listed in {self.where(ignored_names[name])}, which pytest does not read here)"
        if target is None or not _can_register(name):
            message += f"; not fixable: {reason or 'pytest cannot register this name'}"
            self.outcome.findings.append(self.use_finding(module, use, message, False))
            return
        finding = self.use_finding(module, use, message, True)
        self.outcome.findings.append(finding)
        _, folders, pending = self.additions.setdefault(target.path, (target, defaultdict(Counter), []))
        folders[name][self.relative(module.path.parent)] += 1
        pending.append(finding)

    def report_config(self, located: Located, reported: set[Path]) -> None:
        """Problems, duplicates and read errors of the files that decide these tests' markers, once each."""
        config = located.config
        if config is not None and config.path not in reported:
            reported.add(config.path)
            if config.error is not None:
                self.outcome.errors.append(FileError(self.relative(config.path), f"{config.error}; no markers written"))
            self.report_problems(config)
            if config.style is not None:
                self.report_duplicates(config)
        for other in located.passed_over:
            if other.path not in reported:
                reported.add(other.path)
                self.report_problems(other)
        for other, why in located.ignored:
            if other.path in reported:
                continue
            reported.add(other.path)
            line = other.entries[0].line if other.entries else other.markers_line
            message = f"the markers in {self.where(other)} are ignored: {why}"
            self.outcome.findings.append(self.config_finding(other, line, message, False))

    def report_problems(self, config: PytestConfig) -> None:
        """Findings for what pytest ignores; a configuration error for what it cannot use."""
        for problem in config.problems:
            if problem.fatal:
                raise ConfigurationError(f"{self.relative(config.path)}:{problem.line}: {problem.message}")
            self.outcome.findings.append(self.config_finding(config, problem.line, problem.message, False))

    def report_duplicates(self, config: PytestConfig) -> None:
        first: dict[str, int] = {}
        fixable = "dedupe" in self.flags and config.unwritable_reason is None and config.path.is_relative_to(self.root)
        found = self.duplicates.setdefault(config.path, {})
        for index, entry in enumerate(config.entries):
            if entry.name not in first:
                first[entry.name] = entry.line
                continue
            message = f"marker '{entry.name}' is listed twice in {self.where(config)} markers (first at line {first[entry.name]})"
            found[index] = self.config_finding(config, entry.line, message, fixable)
            self.outcome.findings.append(found[index])

    # --- fixing -----------------------------------------------------------------------

    def description(self, folders: Counter[str]) -> str:
        if "describe" not in self.flags or not folders:
            return PLACEHOLDER_DESCRIPTION
        folder = min(folders, key=lambda name: (-folders[name], name))
        return f"used by tests in {folder}"

    def fix(self) -> None:
        """Compute the edits; the findings they fix move from `findings` to `fixed`."""
        fixed: list[Finding] = []
        dedupe = "dedupe" in self.flags
        for path, (config, folders, pending) in sorted(self.additions.items()):
            entries = [f"{name}: {self.description(folders[name])}" for name in sorted(folders)]
            drop = self.duplicates.get(path, {}) if dedupe else {}
            if self.write(config, entries, list(drop)):
                fixed += pending + list(drop.values())
        for path, drop in sorted(self.duplicates.items()) if dedupe else ():
            cleanable = path not in self.additions and drop and all(f.fixable for f in drop.values())
            if cleanable and self.write(self.locator.load(path), [], list(drop)):
                fixed += drop.values()
        for path, items in sorted(self.renames.items()):
            fixed += self.rename(path, items)
        done = {id(finding) for finding in fixed}
        self.outcome.fixed = fixed
        self.outcome.findings = [finding for finding in self.outcome.findings if id(finding) not in done]

    def write(self, config: PytestConfig, entries: list[str], drop: list[int]) -> bool:
        from codefix.rules._marker_registration import RegistrationError, registered_bytes  # imports tomlkit: only to write

        try:
            after = registered_bytes(config, entries, drop)
        except RegistrationError as exc:
            self.outcome.errors.append(FileError(self.relative(config.path), f"{exc}; no markers written"))
            return False
        if after == config.raw:
            return False
        self.outcome.changes.append(FileChange(self.relative(config.path), config.raw, after, "utf-8", (self.rule.id,)))
        return True

    def rename(self, path: Path, items: list[tuple[MarkerUse, str, Finding]]) -> list[Finding]:
        try:
            from codefix.rules._marker_renamer import renamed_source  # imports LibCST (lazy_libcst.py)

            source, after, renamed = renamed_source(path, [(use, new) for use, new, _ in items])
        except (MarkerScanError, SourceError, UnicodeEncodeError) as exc:
            self.outcome.errors.append(FileError(self.relative(path), f"typos not renamed: {exc}"))
            return []
        if renamed != len(items) or after == source.raw:
            self.outcome.errors.append(FileError(self.relative(path), "typos not renamed: the file changed since it was read"))
            return []
        self.outcome.changes.append(FileChange(self.relative(path), source.raw, after, source.encoding, (self.rule.id,)))
        return [finding for _, _, finding in items]


def _line_span(raw: bytes, line: int) -> tuple[int, int]:
    """1-based columns of the first and just past the last non-blank character of a line."""
    lines = raw.decode("utf-8", "replace").removeprefix("\ufeff").splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    stripped = text.rstrip()
    start = len(stripped) - len(stripped.lstrip())
    return start + 1, max(len(stripped), start) + 1


def _common_parts(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    common = parts[0]
    for other in parts[1:]:
        length = 0
        while length < min(len(common), len(other)) and common[length] == other[length]:
            length += 1
        common = common[:length]
    return common
