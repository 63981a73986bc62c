"""The analysis shared by `clickhouse-async` and `async-context`.

Both rules look for async context managers used as if they were the object
they yield: a factory decorated with `@asynccontextmanager` (or a class with
`__aenter__` but no `__enter__`) that is awaited, entered with a plain `with`,
bound and then used as a client, never entered, or called from a plain `def`.
They differ only in which definitions are targets (`select_function`,
`select_class`) and in whether un-awaited client methods are checked.

Everything is decided per call site of a target, found by following the
callee through imports, aliases and re-exports (`FileContext.resolve_callee`).
The facts the project index does not record about classes (bases, instance
attributes) are derived here, once per run, from the few candidate classes.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from codefix import pyast
from codefix.assigned_aliases import AssignedAliases
from codefix.callees import qualify
from codefix.lazy_libcst import cst
from codefix.lexical import RENAMED_TO, ScreenedText, calls_of
from codefix.index import (
    ClassInfo,
    FunctionInfo,
    ModuleInfo,
    ProjectIndex,
    dotted_name,
)
from codefix.resolution import (
    Defined,
    External,
    Opaque,
    Outcome,
    Resolver,
    callee_parts,
)
from codefix.rules._awaited_sync import is_deliberate_failure
from codefix.rules._entered_text import EnteredCalls
from codefix.rules.base import ConfigurationError, FileContext, Report, Rule
from codefix.sourcefile import SourceError, read_source

if TYPE_CHECKING:
    from libcst.metadata import ExpressionContext

ASYNC_CONTEXT_MANAGER = "contextlib.asynccontextmanager"

#: Attributes that enter or leave the context by hand: correct uses.
PROTOCOL_ATTRIBUTES = frozenset({"__aenter__", "__aexit__"})

#: Bases that cannot give a class `__enter__` or `__await__`.
NEUTRAL_BASES = frozenset(
    {
        "typing.Generic",
        "typing.Protocol",
        "typing_extensions.Protocol",
        "abc.ABC",
        "contextlib.AbstractAsyncContextManager",
        "typing.AsyncContextManager",
    }
)
#: Bases that provide `__aenter__` themselves.
ASYNC_CONTEXT_BASES = frozenset({"contextlib.AbstractAsyncContextManager", "typing.AsyncContextManager"})

#: Attributes every instance has, whatever its class.
_OBJECT_ATTRIBUTES = frozenset(dir(object))

#: A character offset in the analysed code (`_FileCheck.start`).
_Position = int


@dataclass(frozen=True)
class ContextTarget:
    """A callable whose result must be entered with `async with` before use."""

    name: str
    #: Where it is defined ("pkg/db.py:12"), or "configured: pkg.db.open" for a
    #: dotted name outside the project.
    location: str
    is_class: bool = False
    #: Classes only: instances are awaitable (the class defines `__await__`).
    awaitable: bool = False
    #: Classes only: attributes an instance is known to have (methods, class
    #: attributes, `self.x = ...` in methods, inherited ones); None when the
    #: class can have any attribute (`__getattr__`).
    attributes: frozenset[str] | None = None

    @property
    def kind(self) -> str:
        return "async context manager class" if self.is_class else "async context manager factory"

    def misused_attribute(self, attribute: str) -> bool:
        """Whether reading `attribute` on the un-entered object fails at run time."""
        if attribute in PROTOCOL_ATTRIBUTES or attribute in _OBJECT_ATTRIBUTES:
            return False
        if not self.is_class:
            return True
        return self.attributes is not None and attribute not in self.attributes


@dataclass(frozen=True)
class Site:
    """A call of a target, as judged at its call site."""

    call: cst.Call
    target: ContextTarget
    #: The callee as written (`db.get_clickhouse_client`).
    name: str
    #: False when another binding of the callee (a try/except import
    #: fallback) is not a target: reported, never fixed.
    every_binding: bool

    def describe(self) -> str:
        return f"`{self.name}` is an {self.target.kind} ({self.target.location})"

    def mixed_note(self) -> str:
        return "" if self.every_binding else f" (only some bindings of `{self.name}` are; not fixed)"


def is_async_context_factory(function: FunctionInfo, resolver: Resolver) -> bool:
    """True when a decorator of `function` is `contextlib.asynccontextmanager`, under any alias.

    clickhouse-async and async-context both ask this of every function of
    the project while they prepare; the verdict is kept for the run.
    """
    if not function.decorators:
        return False
    verdicts = resolver.shared("async-context-factory")
    verdict = verdicts.get(function)
    if verdict is None:
        verdict = verdicts[function] = _decorated_as_factory(function, resolver)
    return verdict


def _decorated_as_factory(function: FunctionInfo, resolver: Resolver) -> bool:
    for decorator in function.decorators:
        origin = qualify(function, decorator, resolver)
        if origin == ASYNC_CONTEXT_MANAGER:
            return True
        # Re-exported by a project module (`from pkg.util import acm`).
        imported = origin != decorator or "." in origin
        if imported and any(
            isinstance(outcome, External) and outcome.qualified_name == ASYNC_CONTEXT_MANAGER
            for outcome in resolver.resolve_dotted(origin)
        ):
            return True
    return False


@dataclass(frozen=True)
class ClassShape:
    methods: frozenset[str]
    #: None when instances may have any attribute.
    attributes: frozenset[str] | None


class ClassShapes:
    """Bases and attributes of project classes, read from their source with `ast`.

    The index records a class's own methods only; telling whether a class
    with `__aenter__` inherits `__enter__`, or which attributes its instances
    have, needs its bases and its `self.x = ...` assignments. Only candidate
    classes are read, each file at most once per run.
    """

    def __init__(self, index: ProjectIndex, resolver: Resolver):
        self.index = index
        self.resolver = resolver
        self._trees: dict[str, ast.Module | None] = {}
        self._shapes: dict[tuple[str, int], ClassShape | None] = {}

    def shape(self, info: ClassInfo, depth: int = 0) -> ClassShape | None:
        """The class's methods and instance attributes, inherited ones included; None when unknowable."""
        key = (info.path, info.line)
        if key not in self._shapes:
            self._shapes[key] = None  # a cycle of bases is unknowable
            self._shapes[key] = self._compute(info, depth)
        return self._shapes[key]

    def _tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(read_source(self.index.root / path).text)
            except (SourceError, SyntaxError, ValueError, RecursionError):
                self._trees[path] = None
        return self._trees[path]

    def _class_node(self, info: ClassInfo) -> ast.ClassDef | None:
        tree = self._tree(info.path)
        if tree is None:
            return None
        for statement in ast.walk(tree):
            if isinstance(statement, ast.ClassDef) and statement.lineno == info.line and statement.name == info.name:
                return statement
        return None

    def _compute(self, info: ClassInfo, depth: int) -> ClassShape | None:
        node = self._class_node(info)
        module = self.index.module_at(info.path)
        if node is None or module is None or depth > 8:
            return None
        methods = set(info.methods)
        attributes = set(_own_attributes(node)) | methods
        dynamic = bool({"__getattr__", "__getattribute__"} & methods)
        for base in node.bases:
            inherited = self._base_shape(base, module, depth)
            if inherited is None:
                return None
            methods |= inherited.methods
            if inherited.attributes is None:
                dynamic = True
            else:
                attributes |= inherited.attributes
        return ClassShape(frozenset(methods), None if dynamic else frozenset(attributes))

    def _base_shape(self, base: ast.expr, module: ModuleInfo, depth: int) -> ClassShape | None:
        if isinstance(base, ast.Subscript):  # Generic[T]
            base = base.value
        dotted = dotted_name(base)
        if dotted is None:
            return None
        if dotted == "object":
            return ClassShape(frozenset(), frozenset())
        head, *rest = dotted.split(".")
        outcomes = self.resolver.follow_attributes(self.resolver.resolve_in_module(module, head), rest)
        methods: set[str] = set()
        attributes: set[str] | None = set()
        for outcome in outcomes:
            if isinstance(outcome, External) and outcome.qualified_name in NEUTRAL_BASES:
                if outcome.qualified_name in ASYNC_CONTEXT_BASES:
                    methods |= {"__aenter__", "__aexit__"}
                continue
            if not (isinstance(outcome, Defined) and isinstance(outcome.target, ClassInfo)):
                return None
            shape = self.shape(outcome.target, depth + 1)
            if shape is None:
                return None
            methods |= shape.methods
            if shape.attributes is None or attributes is None:
                attributes = None
            else:
                attributes |= shape.attributes
        if not outcomes:
            return None
        return ClassShape(frozenset(methods), None if attributes is None else frozenset(attributes))


def _own_attributes(node: ast.ClassDef) -> Iterator[str]:
    """Names a class body binds, and `self.x` assigned in its methods."""
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield item.name
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                yield from _target_names(target)
        elif isinstance(item, ast.AnnAssign):
            yield from _target_names(item.target)
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or not item.args.args:
            continue
        self_name = item.args.args[0].arg
        for sub in ast.walk(item):
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.ctx, ast.Store)
                and isinstance(sub.value, ast.Name)
                and sub.value.id == self_name
            ):
                yield sub.attr


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)


def validate_name_list(settings: Mapping[str, Any], key: str, rule_id: str, where: str, dotted: bool) -> None:
    """Raise ConfigurationError unless `settings[key]` (when present) is a list of names."""
    if key not in settings:
        return
    values = settings[key]
    what = "names or dotted paths" if dotted else "method names"
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ConfigurationError(f"{where}: {rule_id}.{key} must be a list of {what}")
    for value in values:
        parts = value.split(".")
        if not all(part.isidentifier() for part in parts) or (not dotted and len(parts) > 1):
            raise ConfigurationError(f"{where}: {rule_id}.{key}: {value!r} is not a valid {what[:-1]}")


class AsyncContextRule(Rule):
    """Base of rules flagging async context managers used outside their async context."""

    #: Whether un-awaited coroutine methods of an entered client are reported (case 4).
    checks_client_methods: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any] | None = None, flags: frozenset[str] = frozenset()):
        super().__init__(settings, flags)
        #: Targets defined in the project, by ("function"|"class", path, line).
        self.targets: dict[tuple[str, str, int], ContextTarget] = {}
        #: Targets outside the project, by qualified name (configured dotted names).
        self.external_targets: dict[str, ContextTarget] = {}
        self.trigger_words: frozenset[str] = frozenset()
        #: The targets each trigger word (a name or an alias) can stand for.
        self.word_targets: dict[str, set[ContextTarget]] = defaultdict(set)
        #: Spelled by any module that defines a target of its own (see `concern_lines`).
        self._defining_words: list[str] = sorted(PROTOCOL_ATTRIBUTES | {"asynccontextmanager"})
        self._is_project_module: Callable[[str], bool] = lambda dotted: True
        self.async_methods: frozenset[str] = frozenset()
        #: The text `word_targets_in` last read, and its answer: the prefilters and `judge` ask of the same file in turn.
        self._words_read: tuple[str, Mapping[str, set[ContextTarget]]] | None = None

    # What is a target: decided by the public rules.

    def select_function(self, function: FunctionInfo, resolver: Resolver) -> bool:
        raise NotImplementedError

    def select_class(self, info: ClassInfo, shape: ClassShape) -> bool:
        raise NotImplementedError

    def configured_externals(self, resolver: Resolver) -> Iterable[str]:
        """Dotted names outside the project that the user declared targets."""
        return ()

    # Preparation, once per run.

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        self._is_project_module = index.has_package_prefix
        for function in index.functions():
            # A method is reached through an object (`self.session()`), which
            # call-site resolution cannot follow: never a target.
            if not function.is_method and self.select_function(function, resolver):
                key = ("function", function.path, function.line)
                self.targets[key] = ContextTarget(function.name, f"{function.path}:{function.line}")
        shapes = ClassShapes(index, resolver)
        for module in index.modules():
            for symbols in module.symbols.values():
                for info in symbols:
                    if isinstance(info, ClassInfo) and PROTOCOL_ATTRIBUTES & info.methods:
                        # `__aenter__` may be inherited; a class defining
                        # neither protocol method is not worth reading.
                        self._add_class(info, shapes)
        for dotted in self.configured_externals(resolver):
            self.external_targets[dotted] = ContextTarget(dotted, f"configured: {dotted}")
        for target in [*self.targets.values(), *self.external_targets.values()]:
            self.word_targets[target.name.rpartition(".")[2]].add(target)
        self._add_exported_aliases(index, resolver)
        self.trigger_words = frozenset(self.word_targets)
        self._defining_words = sorted(_words_defining_targets(index))

    def _add_class(self, info: ClassInfo, shapes: ClassShapes) -> None:
        shape = shapes.shape(info)
        if shape is None or "__aenter__" not in shape.methods or "__enter__" in shape.methods:
            return
        if not self.select_class(info, shape):
            return
        self.targets[("class", info.path, info.line)] = ContextTarget(
            info.name,
            f"{info.path}:{info.line}",
            is_class=True,
            awaitable="__await__" in shape.methods,
            attributes=shape.attributes,
        )

    def _add_exported_aliases(self, index: ProjectIndex, resolver: Resolver) -> None:
        """Names a target is re-exported under (`from .db import get_client as warehouse`).

        The text prefilter must know them: a call site importing the alias
        never spells the original name. Chains of renames are followed.
        """
        changed = bool(self.word_targets)
        while changed:
            changed = False
            for module, name, referred in index.renaming_bindings():
                if name in self.word_targets or referred.isdisjoint(self.word_targets.keys()):
                    continue
                targets = {t for t in map(self.target_of, resolver.resolve_in_module(module, name)) if t}
                if targets:
                    self.word_targets[name] |= targets
                    changed = True

    def might_match(self, text: str) -> bool:
        """Every finding starts from a call of a target, so the text must spell one: `name(`.

        Classes are constructed everywhere in code that is correct, and most
        such files would pay for a LibCST parse and its metadata for nothing;
        for them a quick `ast` look for the shapes that can be reported
        decides first (see `_ShapeFilter`). Before it, the text alone clears
        the calls entered correctly (`EnteredCalls`), the most common.
        """
        word_targets = self.word_targets_in(text)
        offsets = calls_of(text, word_targets.keys())
        if EnteredCalls(text, self._checked_methods).all_harmless(offsets):
            return False  # no call at all, or each one entered by `async with` as it should be
        return _ShapeFilter(word_targets, self._checked_methods, self._is_project_module).may_report(text)

    def word_targets_in(self, text: str) -> Mapping[str, set[ContextTarget]]:
        """`word_targets`, and the names this text assigns a target to (`grab = factory`), which the analysis follows.

        The prefilters and `judge` go by the name a call spells; a plain
        alias in the calling file is spelled nowhere else.
        """
        if self._words_read is not None and self._words_read[0] is text:
            return self._words_read[1]
        aliased = AssignedAliases(text).names_for(self.trigger_words) if self.trigger_words else {}
        words: Mapping[str, set[ContextTarget]] = self.word_targets
        if aliased:
            words = dict(self.word_targets)
            for name, targets_words in aliased.items():
                words[name] = set(words.get(name, ())).union(*(self.word_targets[word] for word in targets_words))
        self._words_read = (text, words)
        return words

    @property
    def _checked_methods(self) -> frozenset[str] | None:
        """The client methods case 4 checks, or None when this rule does not check them."""
        return self.async_methods if self.checks_client_methods else None

    def concern_lines(self, screened: ScreenedText) -> set[int] | None:
        """Calls of a target's name (`trigger_words`) or of a name the file binds itself.

        Every finding starts from a call of a target (see `might_match`); in
        a module no one imports, a target is either the module's own or one
        of the importable modules', called by its exported name or an alias
        the module binds. A name the module binds can only be a target when
        the text spells what makes one (`_own_names_of_targets`): without it,
        calls of the module's own helpers, most calls of real code, are no
        concern. Nor are calls the text proves entered correctly
        (`EnteredCalls`): the analysis reports nothing of them.
        """
        text = screened.text
        trigger_words = frozenset(self.word_targets_in(text))
        offsets = calls_of(text, trigger_words, screened.reversed)
        own = _own_names_of_targets(screened, trigger_words, self._defining_words) - trigger_words
        if own:
            offsets += calls_of(text, own, screened.reversed)
        if not offsets:  # most files
            return set()
        entered = EnteredCalls(text, self._checked_methods)
        return screened.lines_of(offset for offset in offsets if not entered.harmless(offset))

    def concerns_covered_by(self, other: Rule) -> bool:
        """Whether `other`'s concern lines always hold this rule's.

        `concern_lines` grows with the trigger and defining words, and
        shrinks with the calls proven entered: a rule not checking client
        methods proves more of them, and one checking more methods fewer.
        """
        if not isinstance(other, AsyncContextRule):
            return False
        mine, theirs = self._checked_methods, other._checked_methods
        proves_no_more = mine is None or (theirs is not None and mine <= theirs)
        return (
            proves_no_more
            and self.trigger_words <= other.trigger_words
            and set(self._defining_words) <= set(other._defining_words)
        )

    def site_lines(
        self, tree: ast.Module, module: ModuleInfo | None, index: ProjectIndex, text: str
    ) -> set[int] | None:
        return _ShapeFilter(self.word_targets_in(text), self._checked_methods, self._is_project_module).site_lines(tree, text)

    # Judging a call site.

    def target_of(self, outcome: Outcome) -> ContextTarget | None:
        if isinstance(outcome, External):
            return self.external_targets.get(outcome.qualified_name)
        if not isinstance(outcome, Defined):
            return None
        kind = "class" if isinstance(outcome.target, ClassInfo) else "function"
        return self.targets.get((kind, outcome.target.path, outcome.target.line))

    def judge(self, context: FileContext, call: cst.Call) -> Site | None:
        parts = callee_parts(call.func)
        words = self.word_targets_in(context.text) if context.text is not None else self.word_targets
        if not parts or parts[-1] not in words:
            return None
        outcomes = _callee_outcomes(context, call.func)
        found = [target for target in map(self.target_of, outcomes) if target is not None]
        if not found:
            return None
        name = context.module.code_for_node(call.func)
        return Site(call, found[0], name, every_binding=len(found) == len(outcomes))

    def check(self, context: FileContext) -> Iterator[Report]:
        if not self.trigger_words:
            return iter(())
        return _FileCheck(self, context).reports()


def _callee_outcomes(context: FileContext, func: cst.BaseExpression) -> tuple[Outcome, ...]:
    """`resolve_callee`, with classes defined at the top of this very module resolved too.

    The resolver reports a class bound in the current file as opaque; the
    index knows it, by line.
    """
    outcomes = context.resolve_callee(func) or ()
    if not isinstance(func, cst.Name) or Opaque("class") not in outcomes or context.module_info is None:
        return outcomes
    scope = context.scopes.get(func)
    classes: list[Outcome] = []
    for assignment in scope[func.value] if scope is not None else ():
        if isinstance(assignment, cst.metadata.Assignment) and isinstance(assignment.node, cst.ClassDef):
            line = context.line_of(assignment.node)
            classes.extend(
                Defined(symbol)
                for symbol in context.module_info.symbols.get(func.value, [])
                if isinstance(symbol, ClassInfo) and symbol.line == line
            )
    if not classes:
        return outcomes
    return tuple(dict.fromkeys([o for o in outcomes if o != Opaque("class")] + classes))


class _ShapeFilter:
    """A sound, cheap pre-check on the `ast` of a file: can any call of a target be reported?

    A call entered by `async with` is the correct use; the analysis only
    looks into its body for a coroutine method of the client called without
    `await` (case 4, when the rule checks them): `async with f() as c:` can
    be reported only if the file calls `c.<async method>(...)` as a
    statement or an assignment's value somewhere. Any other call of a
    factory can be reported. A call of a class can only when it is awaited
    (and instances are not awaitable), entered with a plain `with`, or read
    an attribute the class lacks, on the call itself or on a name or
    attribute it is bound to anywhere in the file; with case 4, every call
    of a class counts. Calls that resolution can never take to the project
    are skipped first: on a parameter (`self.pipeline()`), or on a name
    bound in the file only by imports from outside the project
    (`threading.Lock()`). This over-approximates the LibCST analysis, never
    under-approximates it.
    """

    def __init__(
        self,
        word_targets: Mapping[str, set[ContextTarget]],
        async_methods: frozenset[str] | None,
        is_project_module: Callable[[str], bool],
    ):
        self.word_targets = word_targets
        #: The client's coroutine methods when the rule checks them (case 4), else None.
        self.async_methods = async_methods
        self.is_project_module = is_project_module

    def may_report(self, text: str) -> bool:
        """Whether a call of a target in `text` can be reported (see the class docstring).

        Only the top-level statements that spell a target, a callee's head
        or a holder are walked (`pyast.lines_spelling`): every node the
        answer depends on names one of them, so it is the answer a walk of
        the whole tree gives, for a fraction of the cost on large modules.
        """
        try:
            tree = pyast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True  # the engine reports what is wrong with the file
        gathered = self._facts_on(tree, text, self.word_targets)
        parents = gathered.parents
        calls = [(call, self.word_targets[word]) for word in self.word_targets for call in gathered.calls.get(word, ())]
        if not calls:
            return False
        heads = {head for call, _ in calls if (head := _head_name(call.func)) is not None}
        binding_lines = pyast.lines_spelling(text, heads) | _star_import_lines(text)
        external = _external_only_names((node for node, _ in pyast.nodes_on(tree, binding_lines)), self.is_project_module)
        holders: dict[str, set[ContextTarget]] = defaultdict(set)
        clients: set[str] = set()
        for call, targets in calls:
            head = _head_name(call.func)
            if head is None or head in external or _is_parameter(head, call, parents):
                continue
            parent = parents.get(call)
            if _entered_with_async(call, parent, parents):
                assert isinstance(parent, ast.withitem)
                if self.async_methods is not None and isinstance(parent.optional_vars, ast.Name):
                    clients.add(parent.optional_vars.id)
                continue
            if self.async_methods is not None or any(not target.is_class for target in targets):
                return True
            if self._misused(parent, call, targets, parents):
                return True
            if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is call:
                for target in parent.targets if isinstance(parent, ast.Assign) else [parent.target]:
                    name = _last_name(target)
                    if name:
                        holders[name] |= targets
        if not holders and not clients:
            return False
        uses = self._facts_on(tree, text, holders.keys() | clients)
        for name, targets in holders.items():
            for node in uses.names.get(name, ()):
                if self._misused(uses.parents.get(node), node, targets, uses.parents):
                    return True
        methods = self.async_methods or frozenset()
        return any(_unawaited_method_call(node, methods, uses.parents) for name in clients for node in uses.names.get(name, ()))

    @staticmethod
    def _facts_on(tree: ast.Module, text: str, words: Iterable[str]) -> pyast.TreeFacts:
        """Facts of the lines that spell one of `words` (`pyast.nodes_on`): every node naming one is on them."""
        return pyast.TreeFacts(tree, lines=pyast.lines_spelling(text, words))

    def site_lines(self, tree: ast.Module, text: str) -> set[int]:
        """Lines of every call of a target and of every use of a name or attribute one is bound to.

        Wider than `may_report`: the LibCST analysis follows a bound object
        through the whole file (`self.client = Client()` in `__init__`, used
        in another method), so each use must stay where that analysis sees it.
        The uses are found in the text: any line spelling a holder's name.
        """
        gathered = self._facts_on(tree, text, self.word_targets)
        lines: set[int] = set()
        holders: set[str] = set()
        for word in self.word_targets:
            for call in gathered.calls.get(word, ()):
                lines.add(call.lineno)
                holders.update(_names_bound_to(call, gathered.parents))
        return lines | pyast.lines_spelling(text, holders)

    @staticmethod
    def _misused(parent: ast.AST | None, holder: ast.AST, targets: set[ContextTarget], parents: Mapping[ast.AST, ast.AST]) -> bool:
        if isinstance(parent, ast.Await):
            return any(not target.awaitable for target in targets)
        if isinstance(parent, ast.withitem) and parent.context_expr is holder:
            return isinstance(parents.get(parent), ast.With)
        if isinstance(parent, ast.Attribute) and parent.value is holder:
            return any(target.misused_attribute(parent.attr) for target in targets)
        return False


def _entered_with_async(call: ast.Call, parent: ast.AST | None, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """`async with call(...) [as x]:`, where the analysis reports nothing of the call itself."""
    return isinstance(parent, ast.withitem) and parent.context_expr is call and isinstance(parents.get(parent), ast.AsyncWith)


def _unawaited_method_call(node: ast.AST, methods: frozenset[str], parents: Mapping[ast.AST, ast.AST]) -> bool:
    """`node.m(...)` standing as a statement or an assignment's value, `m` one of `methods`: what case 4 reports."""
    attribute = parents.get(node)
    if not (isinstance(node, ast.Name) and isinstance(attribute, ast.Attribute) and attribute.value is node):
        return False
    call = parents.get(attribute)
    if attribute.attr not in methods or not (isinstance(call, ast.Call) and call.func is attribute):
        return False
    holder = parents.get(call)
    return isinstance(holder, ast.Expr) or (isinstance(holder, (ast.Assign, ast.AnnAssign)) and holder.value is call)


def _names_bound_to(call: ast.Call, parents: Mapping[ast.AST, ast.AST]) -> Iterator[str]:
    """The last names of what `x = call()`, `x = await call()`, `with call() as x` bind."""
    holder: ast.AST = call
    parent = parents.get(holder)
    while isinstance(parent, ast.Await):
        holder, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Assign):
        bound: list[ast.AST] = list(parent.targets)
    elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)):
        bound = [parent.target]
    elif isinstance(parent, ast.withitem) and parent.optional_vars is not None:
        bound = [parent.optional_vars]
    else:
        return
    while bound:
        target = bound.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            bound.extend(target.elts)
        elif isinstance(target, ast.Starred):
            bound.append(target.value)
        elif isinstance(target, (ast.Name, ast.Attribute)):
            yield target.id if isinstance(target, ast.Name) else target.attr  # `client` of `self.client`, not `self`


def _head_name(node: ast.AST) -> str | None:
    """`a` of `a.b.c`; None when the callee is not a dotted name."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _is_parameter(name: str, node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> bool:
    """True when `name` is a parameter of the function around `node`, and nothing there imports it.

    Call-site resolution makes a parameter opaque; only an import of the
    same name in that function could make it something else.
    """
    function = parents.get(node)
    while function is not None and not isinstance(function, _FUNCTIONS):
        function = parents.get(function)
    if function is None:
        return False
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    if name not in {argument.arg for argument in every if argument is not None}:
        return False
    return not any(
        isinstance(statement, (ast.Import, ast.ImportFrom))
        and any((alias.asname or alias.name.partition(".")[0]) == name for alias in statement.names)
        for statement in ast.walk(function)
    )


#: No `\b` in front, which would make the search try every position ("reimport *" counts, harmlessly).
_STAR_IMPORT = re.compile(r"import\s*\*")


def _star_import_lines(text: str) -> set[int]:
    """Lines of `from m import *`: such a line may bind any name without spelling it."""
    if _STAR_IMPORT.search(text) is None:
        return set()
    return {line for line in pyast.lines_spelling(text, ["import"])}


def _external_only_names(nodes: Iterable[ast.AST], is_project_module: Callable[[str], bool]) -> set[str]:
    """Names whose every binding among `nodes` (those of the lines that can bind them) is an import from outside the project."""
    external: set[str] = set()
    other: set[str] = set()
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            source = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                module = source if isinstance(node, ast.ImportFrom) else alias.name
                outside = not (isinstance(node, ast.ImportFrom) and node.level) and not is_project_module(module or "")
                bound = alias.asname or alias.name.partition(".")[0]
                (external if outside else other).add(bound)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            other.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(node.name)
        elif isinstance(node, ast.arg):
            other.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            other.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            other.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            other.add(node.name)
        elif isinstance(node, ast.alias) and node.name == "*":
            other.add("*")
    if "*" in other:
        return set()  # a star import may bind anything
    return external - other


def _last_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


@dataclass
class _Uses:
    """How the object held by one binding is used."""

    entered: bool = False
    #: Checked with `hasattr(obj, "__aenter__")` first: the code handles both kinds.
    guarded: bool = False
    #: Passed somewhere the analysis does not follow (an argument, a return).
    handed_on: bool = False
    #: (node to report, the use as text).
    misuses: list[tuple[cst.CSTNode, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _ClientRegion:
    """Statements in which `name` is the client a target yielded."""

    name: str
    nodes: tuple[cst.CSTNode, ...]
    site: Site
    #: The function the region is in: only an `async def` gets fixes.
    function: cst.FunctionDef | None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _protocol_string(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.SimpleString) and node.evaluated_value in PROTOCOL_ATTRIBUTES


def _words_defining_targets(index: ProjectIndex) -> set[str]:
    """What a module spells when it defines a target of its own.

    A factory is decorated with `asynccontextmanager`, under its own name or
    a name some module binds to it (`from pkg.util import acm`, followed
    through renames to a fixed point); a class target defines `__aenter__`
    or `__aexit__` itself (`prepare` reads no other class).
    """
    words = {"asynccontextmanager"}
    changed = True
    while changed:
        changed = False
        for _, name, referred in index.renaming_bindings():
            if name not in words and not referred.isdisjoint(words):
                words.add(name)
                changed = True
    return words | PROTOCOL_ATTRIBUTES


def _own_names_of_targets(screened: ScreenedText, trigger_words: frozenset[str], defining_words: Iterable[str]) -> set[str]:
    """Names a module may bind a target to, besides the trigger words: it defines one, or imports one `as` another name.

    A module's own names are resolved through its imports, definitions and
    plain aliases (`g = f`, which `trigger_words` already holds when `f` is
    one: `word_targets_in`), so these are the only other ways. Defining a
    target (its text spells a `defining_words` word) may bind any name it
    calls; otherwise only the names bound by renaming a trigger word can be
    (`from svc_core import get_clickhouse_client as ch_client`): calls of
    its other names, most calls of real code, are no concern.
    """
    text = screened.text
    if any(word in text for word in defining_words):
        return screened.called_words & screened.local_words
    names: set[str] = set()
    for offset, word in screened.renamed_words:
        if word in trigger_words:
            renamed = RENAMED_TO.match(text, offset)
            if renamed is None:  # `as` followed by no plain name: a shape not followed here, any bound name may be one
                return screened.called_words & screened.local_words
            names.add(renamed.group(1))
    return names


class _FileCheck:
    """One rule over one file: every call of a target, judged by where it stands."""

    def __init__(self, rule: AsyncContextRule, context: FileContext):
        self.rule = rule
        self.context = context
        self.module = context.module
        from codefix.rules._call_inventory import CallInventory  # defining it imports LibCST (lazy_libcst.py)

        self.inventory = context.collected(CallInventory)  # shared with the sibling rule
        self._expression_contexts: Mapping[cst.CSTNode, ExpressionContext] | None = None
        self.reported: set[int] = set()
        self.regions: list[_ClientRegion] = []

    # Small helpers over the metadata.

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.context.parents.get(node)

    # Positions are only compared: character offsets order nodes as lines and
    # columns do, without making a CodeRange per question (`positions.offsets`).
    def start(self, node: cst.CSTNode) -> _Position:
        return self.context.positions.offsets(node)[0]

    def end(self, node: cst.CSTNode) -> _Position:
        return self.context.positions.offsets(node)[1]

    def within(self, node: cst.CSTNode, first: cst.CSTNode, last: cst.CSTNode | None = None) -> bool:
        return self.start(first) <= self.start(node) and self.end(node) <= self.end(last or first)

    def expression_context(self, node: cst.CSTNode) -> ExpressionContext | None:
        if self._expression_contexts is None:
            self._expression_contexts = self.context.wrapper.resolve(cst.metadata.ExpressionContextProvider)
        return self._expression_contexts.get(node)

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | cst.Lambda | None:
        """The nearest function around `node`; None at module level or in a class body."""
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return ancestor
            if isinstance(ancestor, cst.ClassDef):
                return None
        return None

    def report(self, node: cst.CSTNode, message: str, **fix: Any) -> Iterator[Report]:
        """One report per node, whichever binding led to it."""
        if id(node) in self.reported:
            return
        self.reported.add(id(node))
        yield Report(node, message, **fix)

    # The walk.

    def reports(self) -> Iterator[Report]:
        for call in self.inventory.calls:
            site = self.rule.judge(self.context, call)
            if site is not None:
                yield from self.check_site(site)
        if self.rule.checks_client_methods:
            for region in self.regions:
                yield from self.unawaited_methods(region)

    def check_site(self, site: Site) -> Iterator[Report]:
        call = site.call
        parent = self.parent(call)
        function = self.enclosing_function(call)
        if isinstance(parent, cst.Await):
            yield from self.awaited(site, parent, function)
            return
        if isinstance(parent, cst.WithItem) and parent.item is call:
            statement = self.parent(parent)
            assert isinstance(statement, cst.With)
            if statement.asynchronous is not None:
                self.add_region(parent.asname, statement.body, site, function)
            else:
                yield from self.plain_with(site, statement, parent, function)
            return
        if isinstance(function, cst.Lambda):
            return  # `lambda: factory()` hands the context manager on
        if isinstance(function, cst.FunctionDef) and function.asynchronous is None:
            yield from self.in_plain_def(site, parent, function)
            return
        yield from self.unentered(site, parent, function)

    # Case 1: awaited.

    def awaited(self, site: Site, node: cst.Await, function: cst.FunctionDef | cst.Lambda | None) -> Iterator[Report]:
        target = site.target
        if target.is_class and target.awaitable:
            return
        message = f"{site.describe()}; awaiting it raises TypeError at run time: enter it with `async with {site.name}(...) as ...:`"
        plan = self.wrap_plan(site, node, function)
        if isinstance(plan, str):
            yield from self.report(node, f"{message} (not fixed: {plan})")
            return
        block, index, name = plan
        self.add_region(cst.AsName(name=name), None, site, function, rest=(block, index))
        yield from self.report(node, message, fix=_async_with_fix(index), fix_node=block)

    def wrap_plan(
        self, site: Site, node: cst.Await, function: cst.FunctionDef | cst.Lambda | None
    ) -> tuple[cst.IndentedBlock, int, cst.Name] | str:
        """The block, statement index and name of a rewritable `name = await factory(...)`, or why not."""
        if not site.every_binding:
            return f"only some bindings of `{site.name}` are targets"
        assign = self.parent(node)
        if isinstance(assign, cst.Return):
            return "the client would be closed before the caller uses it; return the context manager and enter it there"
        if not (
            isinstance(assign, cst.Assign)
            and assign.value is node
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
        ):
            return "only `name = await ...` statements are rewritten"
        if not isinstance(function, cst.FunctionDef) or function.asynchronous is None:
            return "not inside an `async def`"
        line = self.parent(assign)
        block = self.parent(line) if line is not None else None
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or not isinstance(block, cst.IndentedBlock):
            return "the statement shares its line with others"
        if is_deliberate_failure(self.context, node):
            return "inside a block that expects the TypeError, a deliberate test"
        index = next(i for i, statement in enumerate(block.body) if statement is line)
        name = assign.targets[0].target
        assert isinstance(name, cst.Name)
        blocker = self.wrap_blocker(name.value, block, index, function)
        if blocker:
            return blocker
        return block, index, name

    def wrap_blocker(self, name: str, block: cst.IndentedBlock, index: int, function: cst.FunctionDef) -> str | None:
        """Why the rest of `block` cannot become the body of `async with ... as name:`, if it cannot."""
        line = block.body[index]
        rest = block.body[index + 1 :]
        if not rest:
            return "nothing follows it in its block to run inside `async with`"
        in_loop = any(
            isinstance(ancestor, (cst.For, cst.While))
            for ancestor in self._ancestors_until(line, function)
        )
        for node in self.inventory.names.get(name, []):
            if not self.within(node, function) or self.within(node, line) or not self.is_variable(node):
                continue
            if isinstance(self.parent(node), cst.NameItem):
                return f"`{name}` is declared global or nonlocal"
            if self.within(node, rest[0], rest[-1]):
                reason = self.escape_in_region(node, name, function)
                if reason:
                    return reason
            elif self.start(node) < self.start(line):
                if in_loop:
                    return f"`{name}` is also used earlier in the same loop"
                if self.enclosing_function(node) is not function:
                    return f"`{name}` is captured by a nested function or class"
            else:
                return f"`{name}` is used after the block, where the client would be closed"
        return None

    def _ancestors_until(self, node: cst.CSTNode, stop: cst.CSTNode) -> Iterator[cst.CSTNode]:
        for ancestor in self.context.ancestors(node):
            if ancestor is stop:
                return
            yield ancestor

    def is_variable(self, node: cst.Name) -> bool:
        """False for names that are not the variable: `x.name`, `f(name=1)`."""
        parent = self.parent(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return False
        return not (isinstance(parent, cst.Arg) and parent.keyword is node)

    def escape_in_region(self, node: cst.Name, name: str, function: cst.FunctionDef) -> str | None:
        if self.expression_context(node) is not cst.metadata.ExpressionContext.LOAD:
            return f"`{name}` is re-bound later in the block"
        if self.enclosing_function(node) is not function:
            return f"`{name}` is captured by a nested function or class"
        if self._is_awaited_method_call(node):
            return None
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, (cst.Return, cst.Yield)):
                return f"`{name}` is returned or yielded out of the block, where it would be closed"
            if isinstance(ancestor, (cst.BaseStatement, cst.BaseSmallStatement)):
                return None
        return None

    def _is_awaited_method_call(self, node: cst.Name) -> bool:
        """`await name.method(...)`: its result, not the client, is what flows on."""
        attribute = self.parent(node)
        call = self.parent(attribute) if attribute is not None else None
        awaited = self.parent(call) if call is not None else None
        return (
            isinstance(attribute, cst.Attribute)
            and isinstance(call, cst.Call)
            and call.func is attribute
            and isinstance(awaited, cst.Await)
        )

    # Case 2: plain `with`.

    def plain_with(
        self, site: Site, statement: cst.With, item: cst.WithItem, function: cst.FunctionDef | cst.Lambda | None
    ) -> Iterator[Report]:
        message = f"{site.describe()}; a plain `with` raises TypeError (it has no `__enter__`): use `async with`"
        reason = self.plain_with_blocker(site, statement, function)
        if reason:
            yield from self.report(site.call, f"{message} (not fixed: {reason})")
            return
        self.add_region(item.asname, statement.body, site, function)
        yield from self.report(site.call, message, fix=_make_async, fix_node=statement)

    def plain_with_blocker(self, site: Site, statement: cst.With, function: cst.FunctionDef | cst.Lambda | None) -> str | None:
        if not site.every_binding:
            return f"only some bindings of `{site.name}` are targets"
        if not isinstance(function, cst.FunctionDef) or function.asynchronous is None:
            name = function.name.value if isinstance(function, cst.FunctionDef) else None
            return f"`{name}` is a plain `def`, which cannot enter it" if name else "not inside an `async def`"
        for other in statement.items:
            if not isinstance(other.item, cst.Call) or self.rule.judge(self.context, other.item) is None:
                return "the same `with` also enters synchronous context managers"
        if is_deliberate_failure(self.context, statement):
            return "inside a block that expects the TypeError, a deliberate test"
        return None

    # Case 5: a plain `def`.

    def in_plain_def(self, site: Site, parent: cst.CSTNode | None, function: cst.FunctionDef) -> Iterator[Report]:
        """A target called where no async context exists, unless the result is only handed on.

        `return factory()`, or `self._cm = factory()` in `__init__` later
        entered by `async with self._cm` in a method, pass the context manager
        to async code that enters it: correct.
        """
        if isinstance(parent, (cst.Return, cst.Arg)):
            return
        if site.target.is_class and not self._misused_directly(site, parent):
            return  # constructing an instance in sync code is ordinary
        uses: _Uses | None = None
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is site.call:
            target = _single_target(parent)
            if isinstance(target, cst.Name):
                uses = self.name_uses(site, target)
            elif isinstance(target, cst.Attribute):
                uses = self.attribute_uses(site, target, function)
            if uses is None or uses.guarded or (not uses.misuses and (uses.entered or uses.handed_on)):
                return
        name = function.name.value
        yield from self.report(
            site.call,
            f"{site.describe()}, but `{name}` is a plain `def`: there is no async context to enter it in; "
            f"make `{name}` an `async def` and use `async with`",
        )
        if uses is not None and isinstance(_single_target(parent), cst.Attribute):  # type: ignore[arg-type]
            holder = self.module.code_for_node(_single_target(parent))  # type: ignore[arg-type]
            yield from self.misuse_reports(site, uses, holder)

    def _misused_directly(self, site: Site, parent: cst.CSTNode | None) -> bool:
        return (
            isinstance(parent, cst.Attribute)
            and parent.value is site.call
            and site.target.misused_attribute(parent.attr.value)
        )

    # Case 3: created, not entered.

    def unentered(self, site: Site, parent: cst.CSTNode | None, function: cst.FunctionDef | None) -> Iterator[Report]:
        call = site.call
        if isinstance(parent, cst.Attribute) and parent.value is call:
            if site.target.misused_attribute(parent.attr.value):
                use = f"`{site.name}(...).{parent.attr.value}`"
                yield from self.report(
                    parent,
                    f"{site.describe()}, not the object it yields; {use} fails at run time: "
                    f"use `async with {site.name}(...) as client:`{site.mixed_note()}",
                )
            return
        if isinstance(parent, cst.Expr) and not site.target.is_class:
            yield from self.report(
                call,
                f"{site.describe()}; the context manager it returns is dropped without `async with`, "
                f"so its body never runs{site.mixed_note()}",
            )
            return
        if not (isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call):
            return  # handed to something else: out of sight
        target = _single_target(parent)
        if isinstance(target, cst.Name):
            uses = self.name_uses(site, target)
            scope = self.context.scopes.get(target)
            # A module-level name may be imported and entered elsewhere.
            report_unentered = not isinstance(scope, cst.metadata.GlobalScope)
        elif isinstance(target, cst.Attribute):
            uses = self.attribute_uses(site, target, function)
            report_unentered = True
        else:
            return
        if uses is None or uses.guarded:
            return
        holder = self.module.code_for_node(target)
        yield from self.misuse_reports(site, uses, holder)
        if uses.misuses or uses.entered or uses.handed_on or not report_unentered or site.target.is_class:
            return
        yield from self.report(
            site.call,
            f"{site.describe()}; its context manager, bound to `{holder}`, is never entered with `async with`, "
            f"so the client is never opened{site.mixed_note()}",
        )

    def name_uses(self, site: Site, target: cst.Name) -> _Uses | None:
        """How the object bound to `target` is used; None where it cannot be followed (class bodies)."""
        scope = self.context.scopes.get(target)
        if scope is None or self.enclosing_function(target) is None and not isinstance(scope, cst.metadata.GlobalScope):
            return None
        assignments = list(scope.assignments[target.value])
        binding = next((a for a in assignments if a.node is target), None)
        if binding is None:
            return None
        others = [
            self.start(a.node)
            for a in assignments
            if a is not binding and isinstance(a, cst.metadata.Assignment) and not self._harmless_binding(a.node)
        ]
        # Uses after the name is re-bound to something else are not this object's.
        cutoff = min((p for p in others if p > self.start(target)), default=None)
        uses = _Uses()
        for access in binding.references:
            node = access.node
            if not isinstance(node, cst.Name):
                uses.handed_on = True
                continue
            if access.scope is not scope and others:
                continue  # another scope's view of a re-bound name: cannot tell which binding
            if access.scope is scope and cutoff is not None and self.start(node) > cutoff:
                continue
            self.classify_use(node, site, uses)
        return uses

    def _harmless_binding(self, node: cst.CSTNode) -> bool:
        """`x = None`, or another call of a target: neither makes a later use of `x` ambiguous."""
        parent = self.parent(node)
        assign = self.parent(parent) if isinstance(parent, cst.AssignTarget) else parent
        if not isinstance(assign, (cst.Assign, cst.AnnAssign)) or assign.value is None:
            return False
        value = assign.value
        if _is_none(value):
            return True
        return isinstance(value, cst.Call) and self.rule.judge(self.context, value) is not None

    def attribute_uses(self, site: Site, target: cst.Attribute, function: cst.FunctionDef | None) -> _Uses | None:
        """`self._client = factory()`: follow `self._client` through the methods of the class.

        None when it cannot be followed: not `self.<attr>` in a method, or the
        attribute also holds something else.
        """
        if not isinstance(target.value, cst.Name) or function is None:
            return None
        owner = _owning_class(self.context, function)
        if owner is None or _first_parameter(function) != target.value.value:
            return None
        attribute = target.attr.value
        uses = _Uses()
        for node in self.inventory.attributes.get(attribute, []):
            if node is target or not isinstance(node.value, cst.Name):
                continue
            if not self.within(node, owner):
                uses.handed_on = True  # `service._client` elsewhere in the module
                continue
            method = self._method_of(node, owner)
            if method is None or _first_parameter(method) != node.value.value:
                continue
            if self._assignment_of(node) is not None:
                if not self._harmless_binding(node):
                    return None
                continue
            if self.expression_context(node) is not cst.metadata.ExpressionContext.LOAD:
                return None  # deleted or unpacked into: cannot follow
            self.classify_use(node, site, uses)
        return uses

    def _assignment_of(self, node: cst.Attribute) -> cst.CSTNode | None:
        parent = self.parent(node)
        if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.AnnAssign) and parent.target is node):
            return parent
        if isinstance(parent, cst.AugAssign) and parent.target is node:
            return parent
        return None

    def _method_of(self, node: cst.CSTNode, owner: cst.ClassDef) -> cst.FunctionDef | None:
        """The method of `owner` that `node` is in (nested functions see the method's `self`)."""
        method = None
        for ancestor in self.context.ancestors(node):
            if ancestor is owner:
                return method
            if isinstance(ancestor, cst.FunctionDef):
                method = ancestor
            if isinstance(ancestor, cst.ClassDef):
                return None
        return None

    def classify_use(self, holder: cst.CSTNode, site: Site, uses: _Uses) -> None:
        """Record what one occurrence of the un-entered object does with it."""
        parent = self.parent(holder)
        code = self.module.code_for_node(holder)
        target = site.target
        if isinstance(parent, cst.Attribute) and parent.value is holder:
            attribute = parent.attr.value
            if attribute in PROTOCOL_ATTRIBUTES:
                uses.entered = True  # entered by hand
            elif target.misused_attribute(attribute):
                uses.misuses.append((parent, f"`{code}.{attribute}`"))
            else:
                uses.handed_on = True
        elif isinstance(parent, cst.Call) and parent.func is holder and not target.is_class:
            uses.misuses.append((parent, f"`{code}(...)`"))
        elif isinstance(parent, cst.Await) and not (target.is_class and target.awaitable):
            uses.misuses.append((parent, f"`await {code}`"))
        elif isinstance(parent, cst.WithItem) and parent.item is holder:
            statement = self.parent(parent)
            assert isinstance(statement, cst.With)
            if statement.asynchronous is not None:
                uses.entered = True
                self.add_region(parent.asname, statement.body, site, self.enclosing_function(statement))
            else:
                uses.misuses.append((holder, f"`with {code}`"))
        elif isinstance(parent, cst.Arg) and self._is_protocol_guard(parent):
            uses.guarded = True
        else:
            uses.handed_on = True

    def _is_protocol_guard(self, argument: cst.Arg) -> bool:
        """`hasattr(obj, "__aenter__")` / `getattr(obj, "__aexit__", None)`: code that checks before entering."""
        call = self.parent(argument)
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name):
            return False
        if call.func.value not in ("hasattr", "getattr") or len(call.args) < 2:
            return False
        return call.args[0] is argument and _protocol_string(call.args[1].value)

    def misuse_reports(self, site: Site, uses: _Uses, holder: str) -> Iterator[Report]:
        if uses.guarded:
            return
        for node, use in uses.misuses:
            advice = (
                "this is inside a block that expects the TypeError, a deliberate test left as is"
                if is_deliberate_failure(self.context, node)
                else f"enter it with `async with {holder} as client:` and use `client`"
            )
            yield from self.report(
                node,
                f"`{holder}` holds the context manager from `{site.name}` ({site.target.location}), "
                f"not the object it yields; {use} fails at run time: {advice}{site.mixed_note()}",
            )

    # Case 4: coroutine methods of the client left un-awaited.

    def add_region(
        self,
        asname: cst.AsName | None,
        body: cst.BaseSuite | None,
        site: Site,
        function: cst.FunctionDef | cst.Lambda | None,
        rest: tuple[cst.IndentedBlock, int] | None = None,
    ) -> None:
        if not self.rule.checks_client_methods or asname is None or not isinstance(asname.name, cst.Name):
            return
        if rest is not None:
            block, index = rest
            nodes: tuple[cst.CSTNode, ...] = tuple(block.body[index + 1 :])
        elif isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            nodes = tuple(body.body)
        else:
            return
        if nodes:
            owner = function if isinstance(function, cst.FunctionDef) else None
            self.regions.append(_ClientRegion(asname.name.value, nodes, site, owner))

    def unawaited_methods(self, region: _ClientRegion) -> Iterator[Report]:
        first, last = region.nodes[0], region.nodes[-1]
        in_region = [
            node
            for node in self.inventory.names.get(region.name, [])
            if self.within(node, first, last) and self.is_variable(node)
        ]
        if any(self.expression_context(node) is not cst.metadata.ExpressionContext.LOAD for node in in_region):
            return  # re-bound inside: cannot tell which object a call is on
        can_fix = region.function is not None and region.function.asynchronous is not None
        for node in in_region:
            call = self._unawaited_method_call(node)
            if call is None or self.enclosing_function(call) is not region.function:
                continue
            method = call.func.attr.value  # type: ignore[attr-defined]
            message = (
                f"`{region.name}.{method}(...)` is a coroutine method of the client from `{region.site.name}` "
                f"({region.site.target.location}) and is not awaited: it never runs"
            )
            if can_fix:
                yield from self.report(call, f"{message}; add `await`", fix=_add_await)
            else:
                yield from self.report(call, f"{message} (not fixed: not inside an `async def`)")

    def _unawaited_method_call(self, node: cst.Name) -> cst.Call | None:
        """`name.execute(q)` as a statement or the value of an assignment, when `execute` is async."""
        attribute = self.parent(node)
        if not isinstance(attribute, cst.Attribute) or attribute.value is not node:
            return None
        if attribute.attr.value not in self.rule.async_methods:
            return None
        call = self.parent(attribute)
        if not isinstance(call, cst.Call) or call.func is not attribute:
            return None
        holder = self.parent(call)
        if isinstance(holder, cst.Expr) or (isinstance(holder, (cst.Assign, cst.AnnAssign)) and holder.value is call):
            return call
        return None


def _single_target(assign: cst.Assign | cst.AnnAssign) -> cst.BaseExpression | None:
    if isinstance(assign, cst.AnnAssign):
        return assign.target
    return assign.targets[0].target if len(assign.targets) == 1 else None


def _first_parameter(function: cst.FunctionDef) -> str | None:
    params = [*function.params.posonly_params, *function.params.params]
    return params[0].name.value if params else None


def _owning_class(context: FileContext, function: cst.FunctionDef) -> cst.ClassDef | None:
    """The class whose method `function` is (directly in its body)."""
    block = context.parents.get(function)
    owner = context.parents.get(block) if block is not None else None
    return owner if isinstance(owner, cst.ClassDef) else None


# The fixes: functions from the updated node to its replacement.


def _make_async(updated: cst.CSTNode) -> cst.CSTNode:
    """`with factory() as c:` becomes `async with factory() as c:`; nothing else changes."""
    assert isinstance(updated, cst.With)
    return updated.with_changes(asynchronous=cst.Asynchronous())


def _add_await(updated: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(updated, cst.Call)
    return cst.Await(expression=updated)


def _async_with_fix(index: int) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """Turn `name = await factory(args)` at `index` and the rest of its block into `async with`."""

    def fix(updated: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(updated, cst.IndentedBlock)
        return wrap_rest_in_async_with(updated, index)

    return fix


def wrap_rest_in_async_with(block: cst.IndentedBlock, index: int) -> cst.IndentedBlock:
    """`name = await f(args)` + the statements after it become `async with f(args) as name:` + them.

    The statements keep their own comments and blank lines; LibCST indents
    them one level deeper, continuation lines included, and leaves string
    contents alone. Comments above the assignment stay above the `async
    with`, a comment at its end moves to the end of the `async with` line.
    """
    line = block.body[index]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return block
    assign = line.body[0]
    if not (isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Await) and len(assign.targets) == 1):
        return block
    statement = cst.With(
        items=[cst.WithItem(item=assign.value.expression, asname=cst.AsName(name=assign.targets[0].target))],
        body=cst.IndentedBlock(body=block.body[index + 1 :], header=line.trailing_whitespace),
        asynchronous=cst.Asynchronous(),
        leading_lines=line.leading_lines,
    )
    return block.with_changes(body=[*block.body[:index], statement])


__all__ = [
    "ASYNC_CONTEXT_MANAGER",
    "AsyncContextRule",
    "ClassShape",
    "ContextTarget",
    "Site",
    "is_async_context_factory",
    "validate_name_list",
    "wrap_rest_in_async_with",
]
