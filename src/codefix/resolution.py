"""Following a name the way Python would, from a call site down to its definition.

Two halves: `Resolver` follows module-level bindings through the index
(imports, aliases, re-exports, star imports, chains of them), and
`resolve_callee` starts from a LibCST expression at a call site, using LibCST's
scope analysis for what is local to the file (imports inside functions, local
`def`s, parameters, try/except fallbacks). A name can have several bindings;
every one is followed and all outcomes are returned, so rules judge by each.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codefix.index import (
    ClassInfo,
    FunctionInfo,
    ImportRef,
    LocalAlias,
    ModuleInfo,
    OpaqueBinding,
    ProjectIndex,
    absolute_module,
)
from codefix.lazy_libcst import cst

if TYPE_CHECKING:
    from libcst.metadata import ImportAssignment, Scope

_BUILTIN_NAMES = frozenset(dir(builtins))

#: Re-export chains in real projects are 2-3 deep; this bounds cycles and pathologies.
MAX_DEPTH = 24


@dataclass(frozen=True)
class Defined:
    """Resolved to a function or class defined in the project."""

    target: FunctionInfo | ClassInfo


@dataclass(frozen=True)
class ModuleRef:
    name: str


@dataclass(frozen=True)
class External:
    """Resolved to something outside the project (third-party, stdlib, builtins)."""

    qualified_name: str


@dataclass(frozen=True)
class Missing:
    """Imported from a project module that does not define it (ImportError at run time)."""

    qualified_name: str


@dataclass(frozen=True)
class Unbound:
    """Never bound in any enclosing scope (NameError at run time)."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """Bound to something the analysis does not evaluate: a parameter, an attribute, a call result."""

    reason: str


Outcome = Defined | ModuleRef | External | Missing | Unbound | Opaque


class Resolver:
    """Follows module-level bindings through the project index."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self._cache: dict[tuple[str, str], tuple[Outcome, ...]] = {}
        self._shared: dict[str, dict[Any, Any]] = {}

    def shared(self, name: str) -> dict[Any, Any]:
        """A dict kept for this run under `name`: verdicts about the index that several rules reach alike."""
        return self._shared.setdefault(name, {})

    def resolve_attribute(self, module: str, attribute: str) -> tuple[Outcome, ...]:
        """What `module.attribute` is, e.g. ("pkg.ws", "get_manager")."""
        key = (module, attribute)
        if key not in self._cache:
            self._cache[key] = ()  # breaks import cycles: a cycle resolves to nothing
            self._cache[key] = tuple(self._resolve_attribute(module, attribute, 0))
        return self._cache[key]

    def resolve_dotted(self, dotted: str) -> tuple[Outcome, ...]:
        """What an absolute dotted path names: the longest project module prefix, then attributes."""
        parts = dotted.split(".")
        for split in range(len(parts), 0, -1):
            module = ".".join(parts[:split])
            if self.index.has_module(module):
                outcomes: tuple[Outcome, ...] = (ModuleRef(module),)
                return self.follow_attributes(outcomes, parts[split:])
        return (External(dotted),)

    def follow_attributes(self, outcomes: Iterable[Outcome], attributes: list[str]) -> tuple[Outcome, ...]:
        current = tuple(outcomes)
        for attribute in attributes:
            following: list[Outcome] = []
            for outcome in current:
                if isinstance(outcome, ModuleRef):
                    following.extend(self.resolve_attribute(outcome.name, attribute))
                elif isinstance(outcome, External):
                    following.append(External(f"{outcome.qualified_name}.{attribute}"))
                elif isinstance(outcome, (Missing, Unbound)):
                    following.append(outcome)
                else:
                    following.append(Opaque("attribute of an object"))
            current = tuple(dict.fromkeys(following))
        return current

    def resolve_in_module(self, module: ModuleInfo, name: str) -> tuple[Outcome, ...]:
        """What a module-level name means inside `module`: its globals, then builtins."""
        if name not in module.symbols and name in _BUILTIN_NAMES and not module.star_imports:
            return (External(f"builtins.{name}"),)
        return tuple(dict.fromkeys(self._symbol_outcomes(module, name, 0)))

    def _resolve_attribute(self, module_name: str, attribute: str, depth: int) -> list[Outcome]:
        modules = self.index.modules_named(module_name)
        if not modules:
            if self.index.has_module(f"{module_name}.{attribute}"):
                return [ModuleRef(f"{module_name}.{attribute}")]
            if self.index.has_package_prefix(module_name) and self.index.has_module(module_name.partition(".")[0]):
                return [Missing(f"{module_name}.{attribute}")]
            return [External(f"{module_name}.{attribute}")]
        outcomes: list[Outcome] = []
        for module in modules:
            outcomes.extend(self._symbol_outcomes(module, attribute, depth))
        return list(dict.fromkeys(outcomes))

    def _symbol_outcomes(self, module: ModuleInfo, name: str, depth: int) -> list[Outcome]:
        if depth > MAX_DEPTH:
            return [Opaque("re-export chain too deep")]
        symbols = module.symbols.get(name)
        if symbols:
            outcomes: list[Outcome] = []
            for symbol in symbols:
                outcomes.extend(self._symbol_outcome(module, symbol, depth))
            return outcomes
        submodule = f"{module.name}.{name}"
        if self.index.has_module(submodule):
            return [ModuleRef(submodule)]
        for source in module.star_imports:
            found = [
                outcome
                for outcome in self._follow_import(ImportRef(source, name), depth + 1)
                if not isinstance(outcome, Missing)
            ]
            if found:
                return found
        if "__getattr__" in module.symbols or module.star_imports:
            return [Opaque(f"{module.name} may provide {name} dynamically")]
        return [Missing(f"{module.name}.{name}")]

    def _symbol_outcome(self, module: ModuleInfo, symbol: object, depth: int) -> list[Outcome]:
        if isinstance(symbol, (FunctionInfo, ClassInfo)):
            return [Defined(symbol)]
        if isinstance(symbol, ImportRef):
            return self._follow_import(symbol, depth + 1)
        if isinstance(symbol, LocalAlias):
            return self._symbol_outcomes(module, symbol.target, depth + 1)
        if isinstance(symbol, OpaqueBinding):
            return [Opaque(f"assigned at {module.path}:{symbol.line}")]
        return [Opaque("unknown binding")]

    def _follow_import(self, ref: ImportRef, depth: int) -> list[Outcome]:
        if ref.name is None:
            if self.index.has_module(ref.module):
                return [ModuleRef(ref.module)]
            return [External(ref.module)]
        if depth > MAX_DEPTH:
            return [Opaque("re-export chain too deep")]
        modules = self.index.modules_named(ref.module)
        if not modules:
            return self._resolve_attribute(ref.module, ref.name, depth)
        outcomes: list[Outcome] = []
        for module in modules:
            outcomes.extend(self._symbol_outcomes(module, ref.name, depth))
        return outcomes


def _import_outcomes(
    assignment: ImportAssignment, name: str, module: ModuleInfo | None, resolver: Resolver
) -> list[Outcome]:
    node = assignment.node
    if isinstance(node, cst.Import):
        for alias in node.names:
            dotted = cst.helpers.get_full_name_for_node(alias.name) or ""
            bound = alias.evaluated_alias or dotted.partition(".")[0]
            if bound == name:
                target = dotted if alias.evaluated_alias else bound
                return [ModuleRef(target)] if resolver.index.has_module(target) else [External(target)]
        return [Opaque("import not understood")]
    assert isinstance(node, cst.ImportFrom)
    if isinstance(node.names, cst.ImportStar):
        return [Opaque("star import")]
    source_name = cst.helpers.get_full_name_for_node(node.module) if node.module else None
    package = module.package if module else ""
    source = absolute_module(len(node.relative), source_name, package)
    for alias in node.names:
        if (alias.evaluated_alias or alias.evaluated_name) == name:
            return list(resolver.resolve_attribute(source, alias.evaluated_name))
    return [Opaque("import not understood")]


def resolve_name(
    name: str,
    scope: Scope,
    module: ModuleInfo | None,
    resolver: Resolver,
    functions_by_line: dict[int, FunctionInfo],
    line_of: Callable[[cst.CSTNode], int],
    follow_alias: Callable[[cst.Name], tuple[Outcome, ...] | None] | None = None,
) -> tuple[Outcome, ...]:
    """Every binding `name` can have at a point in `scope`, each followed to its end.

    `follow_alias`: what an assignment to a name binds it to, None when
    it cannot tell (`FileContext.alias_outcomes`).
    """
    assignments = scope[name]
    if not assignments:
        if module is not None and module.star_imports:
            return tuple(dict.fromkeys(resolver.resolve_in_module(module, name)))
        return (Unbound(name),)
    outcomes: list[Outcome] = []
    for assignment in assignments:
        if isinstance(assignment, cst.metadata.BuiltinAssignment):
            outcomes.append(External(f"builtins.{name}"))
        elif isinstance(assignment, cst.metadata.ImportAssignment):
            outcomes.extend(_import_outcomes(assignment, name, module, resolver))
        elif isinstance(assignment, cst.metadata.Assignment) and isinstance(assignment.node, cst.FunctionDef):
            function = functions_by_line.get(line_of(assignment.node))
            outcomes.append(Defined(function) if function else Opaque("function not indexed"))
        elif isinstance(assignment, cst.metadata.Assignment) and isinstance(assignment.node, cst.ClassDef):
            outcomes.append(Opaque("class"))
        elif follow_alias is not None and isinstance(assignment.node, cst.Name) and (aliased := follow_alias(assignment.node)):
            outcomes.extend(aliased)
        else:
            outcomes.append(Opaque("assigned from an expression"))
    return tuple(dict.fromkeys(outcomes))


def callee_parts(func: cst.BaseExpression) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None when the callee is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(func, cst.Attribute):
        parts.append(func.attr.value)
        func = func.value
    if not isinstance(func, cst.Name):
        return None
    parts.append(func.value)
    return list(reversed(parts))


def aliased_value(target: cst.Name, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.BaseExpression | None:
    """`old` of `new = old`, `a = new = old` or `new: T = old` when it is a name or dotted name, for the target `new`.

    Anything else assigned (a call, a subscript, a loop or `with` target,
    unpacking) is an object the analysis does not evaluate; so is a value in
    parentheses, which may span lines the prefilters do not read
    (`assigned_aliases.py` reads one line).
    """
    parent = parents.get(target)
    if isinstance(parent, cst.AssignTarget):
        statement = parents.get(parent)
        value = statement.value if isinstance(statement, cst.Assign) else None
    elif isinstance(parent, cst.AnnAssign) and parent.target is target:
        value = parent.value
    else:
        return None
    if value is None or value.lpar or callee_parts(value) is None:
        return None
    return value
