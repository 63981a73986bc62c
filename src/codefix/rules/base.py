"""What a rule is, and what it sees of a file.

A rule is a small class: an id, a docstring with the five documentation
headings (What it does / Why is this bad? / Example / Use instead / Fix
safety), a cheap text prefilter, and `check`, which yields `Report`s. A report
may carry a fix: a function from the node as it is now to its replacement,
applied by the engine after all reports are collected, so a rule never edits
the tree it is reading.
"""

from __future__ import annotations

import ast
import textwrap
from functools import cached_property
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from codefix.index import ModuleInfo, ProjectIndex
from codefix.lazy_libcst import cst
from codefix.lexical import ScreenedText
from codefix.resolution import Opaque, Outcome, Resolver, aliased_value, callee_parts, resolve_name
from codefix.types import ConfigurationError, FileChange, FileError, Finding

if TYPE_CHECKING:
    from libcst.metadata import CodeRange, MetadataWrapper, Scope

Fix = Callable[["cst.CSTNode"], "cst.CSTNode"]
_VisitorT = TypeVar("_VisitorT", bound="cst.CSTVisitor")


@dataclass(frozen=True)
class Report:
    """A finding before it is given a path and positions, with its optional fix."""

    #: The code the finding points at (its positions are the finding's).
    node: cst.CSTNode
    message: str
    #: Replaces `fix_node` (as updated by other fixes) when the fix is applied.
    fix: Fix | None = None
    #: The node `fix` replaces, when it is not `node` itself (a rule that
    #: flags an await but rewrites its enclosing block).
    fix_node: cst.CSTNode | None = None
    #: Edits that run on the whole module after node fixes (adding an import).
    module_fix: Callable[[cst.Module], cst.Module] | None = None

    @property
    def target(self) -> cst.CSTNode:
        return self.fix_node if self.fix_node is not None else self.node


@dataclass(frozen=True)
class Example:
    """A one-module case documented next to its rule and run by one parametrized test.

    `findings` is how many findings `code` gets; `fixed` is what
    `apply` makes of it (None when nothing is rewritten).
    """

    code: str
    findings: int = 0
    fixed: str | None = None


class FileContext:
    """One parsed file, with the metadata and project knowledge rules share."""

    def __init__(
        self,
        path: str,
        wrapper: MetadataWrapper,
        module_info: ModuleInfo | None,
        index: ProjectIndex,
        resolver: Resolver,
        original_lines: Sequence[int] | None = None,
        text: str | None = None,
    ):
        self.path = path
        #: The text the rules read (the file, or the screening's cut of it), for questions
        #: asked of the text as the prefilters asked them (`assigned_aliases.py`); None in tests.
        self.text = text
        #: For a reduced copy of the file (reduction.py): each line's number in the file.
        self.original_lines = original_lines
        self.wrapper = wrapper
        self.module = wrapper.module
        self.module_info = module_info
        self.index = index
        self.resolver = resolver
        self._collected: dict[type, Any] = {}
        #: Alias targets being followed (`alias_outcomes`), against cycles.
        self._following: set[cst.Name] = set()

    # Metadata is computed on first use: scope analysis is the most expensive
    # step of a run, and many parsed files never need it.
    @cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        return self.wrapper.resolve(cst.metadata.ScopeProvider)

    @cached_property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """LibCST's syntactic positions (see positions.py) in the file's own lines, also when LibCST reads a reduced copy."""
        from codefix.positions import SyntacticPositions
        from codefix.reduction import MappedPositions

        positions = SyntacticPositions(self.module)
        if self.original_lines is None:
            return positions
        return MappedPositions(positions, self.original_lines)

    @cached_property
    def parents(self) -> Mapping[cst.CSTNode, cst.CSTNode]:
        from codefix.libcst_walk import NodeParents

        return NodeParents(self.module)

    def collected(self, visitor_class: type[_VisitorT]) -> _VisitorT:
        """A visitor of `visitor_class` that has visited the module: one visit per file for all rules asking."""
        if visitor_class not in self._collected:
            visitor = visitor_class()
            self.module.visit(visitor)
            self._collected[visitor_class] = visitor
        return self._collected[visitor_class]

    def line_of(self, node: cst.CSTNode) -> int:
        """The line of a def's name, which is how `ast` (and so the index) numbers it."""
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            node = node.name
        return self.positions[node].start.line

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def resolve_callee(self, func: cst.BaseExpression) -> tuple[Outcome, ...] | None:
        """Every definition a callee can be; None when it is not a name or dotted name."""
        parts = callee_parts(func)
        if parts is None:
            return None
        head = func
        while isinstance(head, cst.Attribute):
            head = head.value
        scope = self.scopes.get(head)
        if scope is None:
            return None
        return self.resolver.follow_attributes(self.resolve_name(parts[0], scope), parts[1:])

    def resolve_name(self, name: str, scope: Scope) -> tuple[Outcome, ...]:
        """Every binding `name` has in `scope`, each followed to its definition."""
        functions = self.module_info.functions_by_line if self.module_info else {}
        return resolve_name(name, scope, self.module_info, self.resolver, functions, self.line_of, self.alias_outcomes)

    def alias_outcomes(self, target: cst.Name) -> tuple[Outcome, ...] | None:
        """What `new = old` makes `new`: whatever `old`, a name or dotted name, is where it is written.

        Handing a function to a local name before calling it (`fetch =
        load`, `grab = pool.factory`) is the commonest alias after `import
        ... as`, and a text search never follows it. None for any other
        assignment; an alias that leads back to itself (`a = b; b = a`)
        resolves to nothing judged.
        """
        value = aliased_value(target, self.parents)
        if value is None:
            return None
        if target in self._following:
            return (Opaque("an alias of itself"),)
        self._following.add(target)
        try:
            return self.resolve_callee(value)
        finally:
            self._following.discard(target)


class Rule:
    """Base class of every rule; subclasses set the class attributes and `check`."""

    id: ClassVar[str]
    #: One line, shown by `codefix rules`.
    summary: ClassVar[str]
    #: Whether a bare `codefix scan` runs it; decided per rule from measured noise.
    default_enabled: ClassVar[bool] = True
    #: The id of a narrower rule this one generalizes (`await-sync` of
    #: `await-websocket`): where both report the same code, only the narrower
    #: rule's finding is kept, so users never see one bug twice.
    generalizes: ClassVar[str | None] = None
    #: Small valid/invalid cases: the rule's own tests (tests/test_rule_examples.py).
    examples: ClassVar[tuple[Example, ...]] = ()
    #: Options of `[tool.codefix.<id>]` with their defaults.
    options: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, settings: Mapping[str, Any] | None = None, flags: frozenset[str] = frozenset()):
        self.settings = {**self.options, **(settings or {})}
        #: Command-line switches that change what a rule fixes (`--fix-typos`).
        self.flags = flags

    @classmethod
    def documentation(cls) -> str:
        return textwrap.dedent(cls.__doc__ or "").strip()

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Check `[tool.codefix.<id>]`; raise ConfigurationError naming the bad key."""
        unknown = sorted(set(settings) - set(cls.options))
        if unknown:
            raise ConfigurationError(f"{where}: unknown key {cls.id}.{unknown[0]!r}")
        return dict(settings)

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        """Once per run, before any file: precompute what depends on the whole project."""

    def might_match(self, text: str) -> bool:
        """Cheap test on the raw text: False means the file cannot have a finding."""
        return True

    def has_candidates(self, module: ModuleInfo, index: ProjectIndex) -> bool:
        """Test on the module's index entry, before any LibCST parse; False skips the file."""
        return True

    def concern_lines(self, screened: ScreenedText) -> set[int] | None:
        """The lines of a file no module can import where a finding of this rule may start; None: anywhere.

        Called after `prepare` on the index of the importable modules; an
        empty set from every rule means the file is never parsed (see
        screening.py). Only the file itself and the importable modules are within reach of
        its call sites, so what `prepare` learnt plus the names the file
        binds decide. A superset is fine; None is always safe. The screening
        keeps the top-level scopes holding these lines (and what they need).
        """
        return None

    def concerns_covered_by(self, other: Rule) -> bool:
        """Whether `other`'s `concern_lines` hold every line this rule's would, both prepared on one index.

        The screening then asks `other` alone: it asks every rule of a run
        about every file nobody imports, and a narrow rule run beside the
        rule generalizing it would only repeat the same searches.
        """
        return False

    def looked_up_names(self) -> frozenset[str]:
        """Names this rule resolves in a file although the code at its sites need not spell them.

        Reduction (reduction.py) and the screening (screening.py) leave out a
        top-level `def` or `class` whose name no kept code spells; a rule
        that asks the file's scope about another name (await-websocket's
        `replacement`, to avoid shadowing it) must name it here, or a
        definition of it would vanish from the copy the rule reads.
        """
        return frozenset()

    def site_lines(
        self, tree: ast.Module, module: ModuleInfo | None, index: ProjectIndex, text: str
    ) -> set[int] | None:
        """Every line where a finding of this rule could start, or None for "anywhere".

        A superset is fine, a missing line is a missed finding: the engine
        hands LibCST only the functions holding these lines (see reduction.py).
        """
        return None

    def check(self, context: FileContext) -> Iterator[Report]:
        raise NotImplementedError


@dataclass
class ProjectContext:
    """What a project-level rule sees: the whole project, not one module."""

    root: Path
    #: Python files the user asked about (findings are reported only for these).
    targets: list[Path]
    index: ProjectIndex
    resolver: Resolver
    #: True for `apply` (dry-run included): compute changes, do not write them.
    fix: bool
    #: Worker processes a project rule may read files in (`--jobs`); None: one per CPU.
    jobs: int | None = None
    #: Which files hold each `ProjectRule.text_needle`, as the screening read them.
    needles: NeedleSightings | None = None


@dataclass(frozen=True)
class NeedleSightings:
    """Which files' texts hold each project rule's `text_needle`, of the files the screening read."""

    #: Relative names of the files whose texts the screening read (or found in its cache).
    read: frozenset[str] = frozenset()
    #: Needle -> relative names of the files holding it.
    holding: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def may_hold(self, needle: str, relative: str) -> bool:
        """False only when the screening read the file and the needle is not in it."""
        return relative not in self.read or needle not in self.holding or relative in self.holding[needle]


@dataclass
class ProjectOutcome:
    findings: list[Finding] = field(default_factory=list)
    #: Findings that `changes` fix.
    fixed: list[Finding] = field(default_factory=list)
    changes: list[FileChange] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


class ProjectRule(Rule):
    """A rule whose findings and fixes span files, e.g. configuration files.

    The engine calls `check_project` once per run instead of `check` per file;
    its changes join the per-file ones in the same diff and patch.
    """

    #: A string every file this rule can find anything in holds, or None. The
    #: screening reads every file of the project anyway; it notes which hold
    #: it (`ProjectContext.needles`), and the rule reads only those.
    text_needle: ClassVar[str | None] = None

    def check(self, context: FileContext) -> Iterator[Report]:
        return iter(())

    def concern_lines(self, screened: ScreenedText) -> set[int] | None:
        """A project rule reads the files it needs itself (`check_project`), not through the index."""
        return set()

    def check_project(self, context: ProjectContext) -> ProjectOutcome:
        raise NotImplementedError

    def checked_files(self, targets: Sequence[Path]) -> list[Path]:
        """The files `check_project` looks at for these targets: what its results depend on."""
        return list(targets)
