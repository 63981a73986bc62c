"""The project-wide symbol index: which module binds which name to what.

Rules need to follow `from pkg.ws import get_manager` through `__init__.py`
re-exports down to the `def`, across every file of the project, while they
only parse with LibCST the few files that have a candidate site. The index is
therefore built with the standard `ast` module, several times cheaper than a
concrete syntax tree, and records only module-level bindings plus the facts
about every function that the rules judge callees by.
"""

from __future__ import annotations

import ast
import bisect
import functools
import gc
import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codefix.discovery import Exclusion, path_maker, iter_python_files, relative_names
from codefix import pyast
from codefix.assigned_aliases import AssignedAliases
from codefix.lexical import AWAITABLE_CONSUMERS, AWAITED, blank_lines, consumer_names, lines_at, split_lines, starts_word, word_offsets
from codefix.parallel import ignore_interrupts
from codefix.progress import NoProgress, Progress
from codefix.sourcefile import SourceError, decode_source


@dataclass(frozen=True)
class FunctionInfo:
    """A `def` or `async def` anywhere in the project, with what judging it needs."""

    module: str
    name: str
    path: str
    line: int
    is_async: bool
    #: Decorators as dotted names written in the source, call arguments dropped.
    decorators: tuple[str, ...]
    #: The return annotation as source text, "" when absent.
    return_annotation: str
    #: Dotted names of the callees of `return <call>` statements in its own body.
    returned_calls: tuple[str, ...]
    #: True when its own body contains `yield` or `yield from`.
    is_generator: bool
    #: True for functions defined directly in a class body.
    is_method: bool
    #: Names bound by `import` statements in its own body, with what they import.
    local_imports: tuple[tuple[str, ImportRef], ...] = ()
    #: True when it may return one of its own parameters (`return coro`):
    #: what it hands back is then whatever the caller passed.
    returns_parameter: bool = False


@dataclass(frozen=True)
class ClassInfo:
    module: str
    name: str
    path: str
    line: int
    methods: frozenset[str]
    #: Base classes as dotted names written in the source.
    bases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportRef:
    """A name bound by an import: `module.name`, or the module itself when name is None."""

    module: str
    name: str | None


@dataclass(frozen=True)
class LocalAlias:
    """`new = old` at module level: the name means whatever `old` means there."""

    target: str


@dataclass(frozen=True)
class OpaqueBinding:
    """A name bound by an expression the index does not evaluate (`f = make()`)."""

    line: int


Symbol = FunctionInfo | ClassInfo | ImportRef | LocalAlias | OpaqueBinding


@dataclass
class ModuleInfo:
    name: str
    path: str
    is_package: bool
    symbols: dict[str, list[Symbol]] = field(default_factory=lambda: defaultdict(list))
    star_imports: list[str] = field(default_factory=list)
    #: Every function of the module, nested ones included, by the line of `def`.
    functions_by_line: dict[int, FunctionInfo] = field(default_factory=dict)
    #: Callees of `await <call>` and of calls handed to APIs that need an
    #: awaitable (`asyncio.run(f())`), as "f" or "head.last" for `head....last`,
    #: and what their heads may be through plain aliases (`assigned_aliases.py`):
    #: rules skip parsing a module none of whose callees can be a target.
    awaited_callees: frozenset[str] = frozenset()
    #: Every name an import statement binds anywhere in the module, function
    #: bodies included: only those can be module objects at a call site.
    imported_names: frozenset[str] = frozenset()
    #: The names of `imported_names` bound by an import inside a function or
    #: class body: there, the module-level binding may not be the one a call sees.
    scoped_imported_names: frozenset[str] = frozenset()

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def absolute_module(level: int, module: str | None, package: str) -> str:
    """Turn `from ..x import y` into an absolute module name, given the importer's package."""
    if level == 0:
        return module or ""
    base = package.split(".") if package else []
    if level > 1:
        base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
    if module:
        base = [*base, module]
    return ".".join(part for part in base if part)


def module_names_for(relative: Path, package_dirs: set[Path]) -> list[str]:
    """Names a file can be imported by: its package chain, and its path from the root.

    The package chain (walking up while the folder has `__init__.py`) is how a
    regular package is imported; the root-relative path covers namespace
    packages, and the `src/` layout is imported without its `src.` prefix.
    """
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts:
        return []
    names: list[str] = []
    folder = relative.parent
    depth = 0
    while folder != Path(".") and folder in package_dirs:
        depth += 1
        folder = folder.parent
    chain_length = depth + (0 if relative.name == "__init__.py" else 1)
    names.append(".".join(parts[len(parts) - chain_length :]) if chain_length else parts[-1])
    names.append(".".join(parts))
    if parts[0] == "src" and len(parts) > 1:
        names.append(".".join(parts[1:]))
    return list(dict.fromkeys(name for name in names if name))


class _FunctionFacts:
    """Returns, yields, call assignments and imports of one function body, not of nested scopes."""

    def __init__(self, package: str = "") -> None:
        self.returned_calls: list[str] = []
        self.is_generator = False
        self.package = package
        self.local_imports: list[tuple[str, ImportRef]] = []
        #: `name = <call>` in the body, so `return name` counts as returning the call.
        self.assigned_calls: dict[str, list[str]] = {}
        self.returned_names: list[str] = []

    def returned_callees(self) -> list[str]:
        calls = list(self.returned_calls)
        for name in self.returned_names:
            calls.extend(self.assigned_calls.get(name, ()))
        return calls

    def on_assign(self, node: ast.Assign) -> None:
        callee = dotted_name(node.value.func) if isinstance(node.value, ast.Call) else None
        if callee:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.assigned_calls.setdefault(target.id, []).append(callee)

    def on_return(self, node: ast.Return) -> None:
        if isinstance(node.value, ast.Call):
            name = dotted_name(node.value.func)
            if name:
                self.returned_calls.append(name)
        elif isinstance(node.value, ast.Name):
            self.returned_names.append(node.value.id)

    def on_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                self.local_imports.append((alias.asname or top, ImportRef(alias.name if alias.asname else top, None)))
            return
        source = absolute_module(node.level, node.module, self.package)
        for alias in node.names:
            if alias.name != "*":
                self.local_imports.append((alias.asname or alias.name, ImportRef(source, alias.name)))


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return dotted_name(target) or "<expression>"


def _function_info(
    node: ast.FunctionDef | ast.AsyncFunctionDef, module: str, path: str, is_method: bool, facts: _FunctionFacts
) -> FunctionInfo:
    arguments = node.args
    parameters = {
        a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a
    }
    return FunctionInfo(
        module=module,
        name=node.name,
        path=path,
        line=node.lineno,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        decorators=tuple(_decorator_name(d) for d in node.decorator_list),
        return_annotation=ast.unparse(node.returns) if node.returns else "",
        returned_calls=tuple(facts.returned_callees()),
        is_generator=facts.is_generator,
        is_method=is_method,
        local_imports=tuple(facts.local_imports),
        returns_parameter=any(
            name in parameters and name not in facts.assigned_calls for name in facts.returned_names
        ),
    )


_NESTED_BLOCKS = (ast.If, ast.Try, ast.TryStar, ast.With, ast.For, ast.While)


def _module_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time, including inside if/try/with/loops."""
    for statement in body:
        yield statement
        if isinstance(statement, _NESTED_BLOCKS):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_level_statements(getattr(statement, block, []))
            for handler in getattr(statement, "handlers", []):
                yield from _module_level_statements(handler.body)


def _bind_targets(target: ast.expr, info: ModuleInfo, value: ast.expr | None, line: int) -> None:
    if isinstance(target, ast.Name):
        if isinstance(value, ast.Name):
            info.symbols[target.id].append(LocalAlias(value.id))
        else:
            info.symbols[target.id].append(OpaqueBinding(line))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind_targets(element, info, None, line)


def _record_statement(statement: ast.stmt, info: ModuleInfo) -> None:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        info.symbols[statement.name].append(info.functions_by_line[statement.lineno])
    elif isinstance(statement, ast.ClassDef):
        methods = frozenset(
            item.name
            for item in statement.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
        info.symbols[statement.name].append(
            ClassInfo(
                info.name,
                statement.name,
                info.path,
                statement.lineno,
                methods,
                tuple(dotted_name(base) or "<expression>" for base in statement.bases),
            )
        )
    elif isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                info.symbols[alias.asname].append(ImportRef(alias.name, None))
            else:
                top = alias.name.partition(".")[0]
                info.symbols[top].append(ImportRef(top, None))
    elif isinstance(statement, ast.ImportFrom):
        source = absolute_module(statement.level, statement.module, info.package)
        for alias in statement.names:
            if alias.name == "*":
                info.star_imports.append(source)
            else:
                info.symbols[alias.asname or alias.name].append(ImportRef(source, alias.name))
    elif isinstance(statement, ast.Assign):
        for target in statement.targets:
            _bind_targets(target, info, statement.value, statement.lineno)
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and statement.value is not None:
        _bind_targets(statement.target, info, None, statement.lineno)


#: Callables whose arguments must be awaitables (asyncio.run, gather, ...).
_AWAITABLE_CONSUMERS = frozenset(AWAITABLE_CONSUMERS)


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _callee_key(node: ast.expr) -> str | None:
    """"f" for `f`, "a.f" for `a.b.f`, None for callees that are not dotted names."""
    if isinstance(node, ast.Name):
        return node.id
    last = _last_name(node)
    while isinstance(node, ast.Attribute):
        node = node.value
    return f"{node.id}.{last}" if isinstance(node, ast.Name) else None


def _awaited_calls_at(node: ast.AST, consumers: Collection[str] = _AWAITABLE_CONSUMERS) -> Iterator[tuple[ast.AST, str]]:
    """(node, callee key) for `await f()` and for `f()` handed to `asyncio.run` & co.

    `consumers`: the names a call of which hands its argument to such an API (`lexical.consumer_names`).
    """
    if isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
        key = _callee_key(node.value.func)
        if key:
            yield node, key
    elif isinstance(node, ast.Call) and _last_name(node.func) in consumers:
        for arg in node.args:
            if isinstance(arg, ast.Call) and (key := _callee_key(arg.func)):
                yield node, key


#: Words without which a line holds no `await`, no `yield` and no call of an awaitable consumer.
_SIGNAL_WORDS = ("await", "yield", *sorted(_AWAITABLE_CONSUMERS))
_BLOCKS = ("body", "orelse", "finalbody")


def _signal_lines(text: str, consumers: Collection[str] = _AWAITABLE_CONSUMERS) -> set[int]:
    """Lines (numbered as the tokenizer does) that spell a word of `_SIGNAL_WORDS`, or a name of `consumers`."""
    return set(lines_at(text, word_offsets(text, {*_SIGNAL_WORDS, *consumers})))


class _ModuleWalk:
    """Every function's facts, and the module's awaited callees and imported names, in one pass.

    It visits statements only. The expressions of a statement can hold an
    `await`, a `yield` or an `asyncio.run(...)` only if its lines spell one of
    those words, so only such statements have their expressions walked: most
    statements of most modules are never looked into. (A full `ast.walk`
    visited every node twice and was most of a cold index build.)
    """

    def __init__(self, info: ModuleInfo, signals: set[int] | None, consumers: Collection[str] = _AWAITABLE_CONSUMERS):
        self.info = info
        self.consumers = consumers
        self.package = info.package
        #: None: no text to read words from; walk every expression.
        self.signals = signals
        self.awaited: set[str] = set()
        self.imported: set[str] = set()
        self.scoped_imported: set[str] = set()
        #: How many function or class bodies the walk is in.
        self._depth = 0

    def block(self, body: list[ast.stmt], facts: _FunctionFacts | None, in_class: bool = False) -> None:
        for statement in body:
            self.statement(statement, facts, in_class)

    def statement(self, node: ast.stmt, facts: _FunctionFacts | None, in_class: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.expressions(node, None)  # decorators and defaults belong to the enclosing scope
            own = _FunctionFacts(self.package)
            self._depth += 1
            self.block(node.body, own)
            self._depth -= 1
            self.info.functions_by_line[node.lineno] = _function_info(
                node, self.info.name, self.info.path, in_class, own
            )
            return
        if isinstance(node, ast.ClassDef):
            self.expressions(node, None)
            self._depth += 1
            self.block(node.body, None, in_class=True)
            self._depth -= 1
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [(alias.asname or alias.name).partition(".")[0] for alias in node.names]
            self.imported.update(bound)
            if self._depth:
                self.scoped_imported.update(bound)
            if facts is not None:
                facts.on_import(node)
            return
        if facts is not None:
            if isinstance(node, ast.Return):
                facts.on_return(node)
            elif isinstance(node, ast.Assign):
                facts.on_assign(node)
        self.expressions(node, facts)
        for name in node._fields:  # in the order of the fields, as a visitor of every node goes
            if name in _BLOCKS:
                self.block(getattr(node, name), facts)
            elif name == "handlers":
                for handler in node.handlers:  # type: ignore[attr-defined]
                    if handler.type is not None:
                        self.walk_expression(handler.type, facts)
                    self.block(handler.body, facts)
            elif name == "cases":
                for case in node.cases:  # type: ignore[attr-defined]
                    if case.guard is not None:
                        self.walk_expression(case.guard, facts)
                    self.block(case.body, facts)

    def expressions(self, node: ast.stmt, facts: _FunctionFacts | None) -> None:
        """Walk the statement's own expressions (not its blocks), if its header's lines call for it."""
        if self.signals is not None:
            body = getattr(node, "body", None)
            last = _first_line(body[0]) - 1 if body else (node.end_lineno or node.lineno)
            first = _first_line(node)
            if not any(line in self.signals for line in range(first, max(first, last) + 1)):
                return
        for name, value in ast.iter_fields(node):
            if name in _BLOCKS or name in ("handlers", "cases"):
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, ast.AST):
                    self.walk_expression(item, facts)

    def walk_expression(self, root: ast.AST, facts: _FunctionFacts | None) -> None:
        pending: list[tuple[ast.AST, bool]] = [(root, False)]
        while pending:
            node, in_lambda = pending.pop()
            for _, callee in _awaited_calls_at(node, self.consumers):
                self.awaited.add(callee)
            if facts is not None and not in_lambda and isinstance(node, (ast.Yield, ast.YieldFrom)):
                facts.is_generator = True
            nested = in_lambda or isinstance(node, ast.Lambda)
            pending.extend((child, nested) for child in ast.iter_child_nodes(node))


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or ()
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])




def awaited_call_lines(text: str) -> Iterator[tuple[int, str | None]]:
    """(line, callee key) for every `await` the text spells, read from the text alone; key None: unknown.

    A superset, for what the reduction needs, of the sites
    `ModuleInfo.awaited_callees` is made of: every such site's node spans a
    line given here, with its key whenever the
    text shows the callee plainly (`await a.b.f(`, key "a.f"). Anything
    else (a parenthesis, a comment or a line break inside the callee, a
    call handed to `asyncio.run`, an `await` in a string) gives its line
    with None, which a rule must treat as "may be a target". No `ast` walk:
    on a 5,000-line module this is ~100 times cheaper.
    """
    matches = [match for match in AWAITED.finditer(text) if starts_word(text, match.start())]
    for match, line in zip(matches, lines_at(text, [match.start() for match in matches])):
        callee = match.group("callee")
        if callee is None or match.group("call") is None or callee.endswith(".") or ".." in callee:
            yield line, None
            continue
        head, _, last = callee.partition(".")
        yield line, f"{head}.{callee.rpartition('.')[2]}" if last else head
    for line in lines_at(text, word_offsets(text, consumer_names(text))):
        yield line, None


def _collect_functions(tree: ast.Module, info: ModuleInfo, text: str | None = None) -> None:
    consumers = consumer_names(text) if text is not None else _AWAITABLE_CONSUMERS
    walk = _ModuleWalk(info, _signal_lines(text, consumers) if text is not None else None, consumers)
    walk.block(tree.body, None)
    info.functions_by_line = dict(sorted(info.functions_by_line.items()))
    # An alias of a callee (`fetch = load`) may be what is awaited: the prefilters judge the aliased names too.
    info.awaited_callees = frozenset(AssignedAliases(text).callees(walk.awaited) if text is not None else walk.awaited)
    info.imported_names = frozenset(walk.imported)
    info.scoped_imported_names = frozenset(walk.scoped_imported)


def analyse_module(tree: ast.Module, name: str, path: str, is_package: bool, text: str | None = None) -> ModuleInfo:
    """The module's index entry; with `text` (the parsed source) expressions without a signal word are skipped."""
    info = ModuleInfo(name=name, path=path, is_package=is_package)
    _collect_functions(tree, info, text)
    for statement in _module_level_statements(tree.body):
        _record_statement(statement, info)
    info.symbols = dict(info.symbols)
    return info


class ProjectIndex:
    """All modules of one project, addressable by import name and by path."""

    def __init__(self, root: Path, modules: Iterable[ModuleInfo] = (), aliases: dict[str, list[str]] | None = None):
        self.root = root
        self._by_name: dict[str, list[ModuleInfo]] = defaultdict(list)
        self._by_path: dict[str, ModuleInfo] = {}
        #: Files that could not be read, decoded or parsed, by relative path.
        self.errors: dict[str, str] = {}
        #: Files indexed without some of their lines (screening.py), with those lines: the
        #: engine must analyse the same text, `partial_text(text, lines)`.
        self.partial: dict[str, tuple[tuple[int, int], ...]] = {}
        self._renaming: list[tuple[ModuleInfo, str, frozenset[str]]] | None = None
        for module in modules:
            self.add(module, (aliases or {}).get(module.path, [module.name]))

    def add(self, module: ModuleInfo, names: Iterable[str]) -> None:
        self._renaming = None
        self._by_path[module.path] = module
        for name in names:
            self._by_name[name].append(module)

    def modules_named(self, name: str) -> list[ModuleInfo]:
        return self._by_name.get(name, [])

    def module_at(self, path: str) -> ModuleInfo | None:
        return self._by_path.get(path)

    def has_module(self, name: str) -> bool:
        return name in self._by_name

    def has_package_prefix(self, dotted: str) -> bool:
        """True when the first component of `dotted` is one of the project's top-level modules."""
        return dotted.partition(".")[0] in self._by_name

    def __len__(self) -> int:
        return len(self._by_path)

    def modules(self) -> Iterator[ModuleInfo]:
        yield from self._by_path.values()

    def functions(self) -> Iterator[FunctionInfo]:
        for module in self._by_path.values():
            yield from module.functions_by_line.values()

    def renaming_bindings(self) -> list[tuple[ModuleInfo, str, frozenset[str]]]:
        """(module, name, the names it refers to) for each module-level name bound by an import or `g = f`.

        In module order. Four rules follow re-exports under other names
        (`from .m import f as g`) to a fixed point, each pass over every
        symbol of the project; this is the part of the index those passes
        read, computed once.
        """
        if self._renaming is None:
            self._renaming = []
            for module in self._by_path.values():
                for name, symbols in module.symbols.items():
                    referred = frozenset(
                        [s.name for s in symbols if isinstance(s, ImportRef) and s.name is not None]
                        + [s.target for s in symbols if isinstance(s, LocalAlias)]
                    )
                    if referred:
                        self._renaming.append((module, name, referred))
        return self._renaming


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def index_source(raw: bytes, path: Path, relative: str, name: str) -> ModuleInfo | str:
    """One file's module entry, or the one-line reason it cannot be indexed."""
    try:
        source = decode_source(path, raw)
        tree = pyast.parse(source.text)  # warnings (invalid escapes...) are the scanned code's business
    except SourceError as exc:
        return str(exc)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return f"syntax error{where}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse: {type(exc).__name__}: {exc}"
    try:
        return analyse_module(tree, name, relative, path.name == "__init__.py", source.text)
    except RecursionError:
        return "too deeply nested to analyse"


Job = tuple[Path, str, str, tuple[tuple[int, int], ...]]
#: (relative name, stat signature, content hash or "" not to cache it, entry, the lines it was built without)
JobResult = tuple[str, tuple[int, int], str, "ModuleInfo | str", tuple[tuple[int, int], ...]]


def _index_job(job: Job) -> JobResult:
    """Read and index one file; runs in worker processes on a cold start.

    With lines to leave out (a file nobody imports, see screening.py), the
    entry is built from the text with those lines emptied, when the cut is
    clean; such an entry is not cached, since it is only right for this
    run's screening.
    """
    path, relative, name, unneeded = job
    try:
        raw = path.read_bytes()
        stat = path.stat()
    except OSError as exc:
        return relative, (0, 0), "", f"cannot read: {exc.strerror or exc}", ()
    signature = (stat.st_mtime_ns, stat.st_size)
    # An `ast` tree holds no reference cycle, so reference counting frees it
    # whole; the collector's passes over its hundreds of thousands of fresh
    # nodes were ~15% of a parse, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        partial = _partial_entry(raw, path, relative, name, unneeded) if unneeded else None
        if partial is not None:
            return relative, signature, "", partial, unneeded
        entry = index_source(raw, path, relative, name)
    finally:
        if collecting:
            gc.enable()
    return relative, signature, content_hash(raw), entry, ()


def _partial_entry(
    raw: bytes, path: Path, relative: str, name: str, unneeded: tuple[tuple[int, int], ...]
) -> ModuleInfo | None:
    """The entry of the text without `unneeded` lines; None when that text is not cleanly what is left."""
    try:
        text = decode_source(path, raw).text
    except SourceError:
        return None
    return partial_entry(text, path, relative, name, unneeded)


def partial_entry(
    text: str, path: Path, relative: str, name: str, unneeded: tuple[tuple[int, int], ...]
) -> ModuleInfo | None:
    """`_partial_entry` of the decoded text (the screening makes it while it holds the text)."""
    try:
        text = partial_text(text, unneeded)
        tree = pyast.parse(text)
        if not clean_cut(tree, unneeded):
            return None
        return analyse_module(tree, name, relative, path.name == "__init__.py", text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def partial_text(text: str, unneeded: tuple[tuple[int, int], ...]) -> str:
    """The text with the `unneeded` lines emptied; the index and the engine must cut alike."""
    return blank_lines(split_lines(text), list(unneeded))


def clean_cut(tree: ast.Module, unneeded: tuple[tuple[int, int], ...]) -> bool:
    """Whether no statement left spans an emptied stretch.

    The stretches were cut at lines starting at column 0 (lexical.py); a cut
    inside a string or brackets leaves text that does not parse, or a
    statement (the string) running over emptied lines: either way the whole
    file is used instead.
    """
    stretches = sorted(unneeded)
    for statement in tree.body:
        first, last = _first_line(statement), statement.end_lineno or statement.lineno
        at = bisect.bisect_right(stretches, (last, last)) - 1
        if at >= 0 and stretches[at][1] >= first:
            return False
    return True


#: Below this many files to index, worker processes cost more than they save.
PARALLEL_THRESHOLD = 200


def _run_jobs(jobs: list[Job], workers: int) -> Iterator[tuple[int, JobResult]]:
    """(position in `jobs`, result) for every job, in the order they finish."""
    if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
        yield from enumerate(map(_index_job, jobs))
        return
    # Largest files first, a few per message, so that no worker is left with
    # the long tail's biggest modules at the end.
    sizes = [_size(job[0]) for job in jobs]
    order = sorted(range(len(jobs)), key=lambda at: -sizes[at])
    chunk = max(1, min(32, len(jobs) // (workers * 16)))
    from concurrent.futures import ProcessPoolExecutor  # here: a run that never forks (pre-commit's) never pays for it

    with ProcessPoolExecutor(max_workers=workers, initializer=ignore_interrupts) as pool:
        yield from zip(order, pool.map(_index_job, [jobs[at] for at in order], chunksize=chunk))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def build_index(
    root: Path,
    extra_files: Iterable[Path] = (),
    use_cache: bool = True,
    workers: int | None = None,
    exclusion: Exclusion | None = None,
    cache_dir: Path | None = None,
    files: Iterable[Path] | None = None,
    progress: Progress | None = None,
) -> ProjectIndex:
    """Index every Python file under `root` (and `extra_files` outside it).

    Unchanged files come from the cache; the others are parsed, in worker
    processes when there are many. Files that cannot be read or parsed are
    recorded in `errors` (the engine reports them when they are targets) and
    left out: nothing can be imported from them anyway. `files`, when given,
    is the walk of `root` already made by the caller.
    """
    files = list(iter_python_files(root, exclusion=exclusion) if files is None else files)
    builder = IndexBuilder(root, list(map(str, files)), extra_files, use_cache, workers, cache_dir)
    builder.add(builder.files, progress)
    return builder.finish()


_UNSIGNED = object()


class IndexBuilder:
    """An index filled in steps: the screening (screening.py) indexes only the files it cannot rule out.

    Module names come from the whole walk (a package is a folder with an
    `__init__.py`, indexed or not), and the cache keeps the entries of every
    walked file, so a file left out of one run keeps its entry for the next.
    """

    def __init__(
        self,
        root: Path,
        files: list[str],
        extra_files: Iterable[Path] = (),
        use_cache: bool = True,
        workers: int | None = None,
        cache_dir: Path | None = None,
        linked: Collection[str] | None = None,
        signatures: dict[str, tuple[int, int] | None] | None = None,
    ):
        """`files`: the walk's files, by their paths' text (`ProjectWalk.file_texts`), as the builder keys them.

        A pathlib path per file of a 40,000-file walk, and hashing it at each
        lookup, was a fifth of a one-file pre-commit scan, which reads a few
        hundred of them; `path` makes those. `linked`: when `files` are one
        walk's, the texts of those that are symlinks (`discovery.relative_names`).
        `signatures`: (size, mtime_ns) of files already stat-ed this run, by
        path text (`results_memo.project_state`).
        """
        from codefix.index_cache import IndexCache  # the cache module imports this one

        extra_files = list(extra_files)
        #: Every file the index may take, by its path's text, with its name relative to the root.
        self.relatives = relative_names(files, root, linked)
        if extra_files:
            known = {Path(file).resolve() for file in files}
            extra_files = [file for file in extra_files if file.resolve() not in known]
            self.relatives.update(relative_names(extra_files, root))
        self.path = path_maker()
        package_dirs = {Path(rel).parent for rel in self.relatives.values() if rel.rpartition("/")[2] == "__init__.py"}
        self._package_dirs = package_dirs
        #: Import names of the files indexed so far (worked out only for those: most are never indexed).
        self.names_of: dict[str, list[str]] = {}
        self.cache = IndexCache(root, cache_dir) if use_cache else None
        self.workers = workers or os.cpu_count() or 1
        self.index = ProjectIndex(root)
        self.signatures = signatures or {}

    def signature(self, file: str) -> tuple[int, int] | None:
        """(mtime_ns, size) of a file, as the caches key it: taken once a run; None when it cannot be stat-ed."""
        signed = self.signatures.get(file, _UNSIGNED)
        if signed is not _UNSIGNED:
            return None if signed is None else (signed[1], signed[0])
        try:
            stat = os.stat(file)
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _names(self, relative: str) -> list[str]:
        names = self.names_of.get(relative)
        if names is None:
            rel = Path(relative)
            names = self.names_of[relative] = module_names_for(rel, self._package_dirs) or [rel.stem]
        return names

    def module_name(self, file: str) -> str:
        """The name the index knows a file of the walk by."""
        return self._names(self.relatives[file])[0]

    def package_of(self, file: str) -> str:
        """The package a file's relative imports start from (`ModuleInfo.package`)."""
        name = self.module_name(file)
        return name if self.relatives[file].rpartition("/")[2] == "__init__.py" else name.rpartition(".")[0]

    @property
    def files(self) -> list[str]:
        return list(self.relatives)

    def add(
        self,
        files: Iterable[str],
        progress: Progress | None = None,
        unneeded: dict[str, tuple[tuple[int, int], ...]] | None = None,
        built: dict[str, ModuleInfo] | None = None,
    ) -> None:
        """Index these files (of the walk, by text): from the cache when unchanged, else parsed.

        `unneeded`: lines of files nobody imports that no rule can need
        (screening.py); a file parsed without them is listed in `index.partial`.
        `built`: entries of some of those files already made without their
        `unneeded` lines (by the screening, which held their text).
        """
        unneeded = unneeded or {}
        built = built or {}
        jobs: list[Job] = []
        for file in files:
            relative = self.relatives[file]
            names = self._names(relative)
            if file in built:
                _add_entry(self.index, relative, built[file], names)
                self.index.partial[relative] = unneeded[file]
                continue
            # A file to parse without some lines is not taken from the cache: its
            # whole entry is as good, but the analysis would then read the whole file.
            entry = None if file in unneeded else _cached_entry(self.cache, file, relative, names[0], self.signature)
            if entry is None:
                jobs.append((self.path(file), relative, names[0], unneeded.get(file, ())))
            else:
                _add_entry(self.index, relative, entry, names)
        progress = progress or NoProgress()
        progress.phase("Indexing", len(jobs))
        done: dict[int, tuple[str, ModuleInfo | str, tuple[tuple[int, int], ...]]] = {}
        for at, (relative, signature, digest, entry, left_out) in _run_jobs(jobs, self.workers):
            progress.advance()
            if self.cache is not None and digest:
                self.cache.store(relative, signature, digest, entry)
            done[at] = (relative, entry, left_out)
        for at in range(len(jobs)):  # in the walk's order, whatever order the workers finished in
            relative, entry, left_out = done.pop(at)
            _add_entry(self.index, relative, entry, self.names_of[relative])
            if left_out:
                self.index.partial[relative] = left_out

    def finish(self) -> ProjectIndex:
        if self.cache is not None:
            self.cache.forget_missing(set(self.relatives.values()))
            self.cache.save()
        return self.index


def _cached_entry(
    cache, file: str, relative: str, name: str, signature: Callable[[str], tuple[int, int] | None]
) -> ModuleInfo | str | None:
    if cache is None:
        return None
    signed = signature(file)
    if signed is None:
        return None
    entry = cache.lookup(relative, signed, functools.partial(_read_bytes, file))
    if isinstance(entry, ModuleInfo) and entry.name != name:
        return None  # a new __init__.py elsewhere renamed the module
    return entry


def _read_bytes(file: str) -> bytes:
    with open(file, "rb") as handle:
        return handle.read()


def _add_entry(index: ProjectIndex, relative: str, entry: ModuleInfo | str, names: list[str]) -> None:
    if isinstance(entry, str):
        index.errors[relative] = entry
    else:
        index.add(entry, names)
