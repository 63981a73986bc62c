"""Where Python files use pytest markers and register them, read statically.

A marker is used wherever `pytest.mark.<name>` is evaluated, whatever the
spelling: `import pytest as pt` then `pt.mark.slow`, `from pytest import
mark as m` then `m.slow`, a plain alias `mk = pytest.mark` then `mk.slow`, in decorators, in `pytestmark = [...]` at module
or class level, in `pytest.param(..., marks=...)`, in
`request.node.add_marker(...)` (which also takes the name as a string), and
`getattr(pytest.mark, "slow")` with a literal name. Names are resolved by
scope, as Python does: a function argument or local variable that happens to
be called `pytest` or `mark` is not the module, and decorators are resolved
in the scope around the function they decorate.

A conftest registers markers with `config.addinivalue_line("markers",
"name: text")`, with the line written out or taken from a `for` loop over a
literal list (inline or a module-level constant), and can pull in plugin
modules with `pytest_plugins`. The code is never imported or run.

Uses are collected with the standard `ast` module, not LibCST: every test
file of a project is read, and LibCST's scope and qualified-name metadata
cost about 0.4 s for a 400-line test module against 10 ms for `ast` (the
project index makes the same choice). LibCST does the rewrite of
`--fix-typos`, on the few files that need one, matching uses by position.
"""

from __future__ import annotations

import ast
import bisect
import re
import symtable
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codefix.index import clean_cut
from codefix.lexical import blank_lines, split_lines, top_level_segments
from codefix.sourcefile import SourceError, read_source

PYTEST = "pytest"
PYTEST_MARK = "pytest.mark"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_STRING_PREFIX = re.compile(r"[rRuU]*")


@dataclass(frozen=True)
class MarkerUse:
    """One place a marker name is evaluated."""

    name: str
    #: 1-based positions of the reported code, columns in characters.
    line: int
    col: int
    end_line: int
    end_col: int
    #: Line and column of the name token (`slow` in `pytest.mark.slow`, or
    #: the string literal) that a rename replaces; None when a rename cannot
    #: touch it (an implicitly concatenated string).
    rename_at: tuple[int, int] | None = None

    @property
    def renamable(self) -> bool:
        return self.rename_at is not None


@dataclass
class ModuleMarkers:
    """What one Python file uses and registers."""

    path: Path
    uses: list[MarkerUse] = field(default_factory=list)
    #: `addinivalue_line("markers", ...)` lines, as written.
    registrations: list[str] = field(default_factory=list)
    #: Module names of `pytest_plugins`.
    plugins: list[str] = field(default_factory=list)


class MarkerScanError(Exception):
    """A file that cannot be read or parsed; its text is one line for the user."""


# --- Scopes: which names mean `pytest` and `pytest.mark` ---------------------------------


#: Nodes that never hold a marker use: walking into them is wasted time.
_LEAVES = (ast.expr_context, ast.Constant, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.alias)


def _import_bindings(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
    for alias in node.names:
        if isinstance(node, ast.Import):
            bound = alias.asname or alias.name.partition(".")[0]
            is_pytest = alias.name == PYTEST or (alias.asname is None and alias.name.startswith("pytest."))
            yield bound, PYTEST if is_pytest else None
        else:
            meaning = None
            if node.level == 0 and (node.module, alias.name) in ((PYTEST, "mark"), ("_pytest.mark", "MARK_GEN")):
                meaning = PYTEST_MARK
            yield alias.asname or alias.name, meaning


def _statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a scope, nested blocks included, nested functions and classes not entered."""
    pending = list(reversed(body))
    while pending:
        statement = pending.pop()
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            pending.extend(reversed(getattr(statement, name, ())))
        for handler in getattr(statement, "handlers", ()):
            pending.extend(reversed(handler.body))
        for case in getattr(statement, "cases", ()):
            pending.extend(reversed(case.body))


def _targets(statement: ast.stmt) -> Iterator[ast.expr]:
    if isinstance(statement, ast.Assign):
        yield from statement.targets
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        yield statement.target
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        yield from (item.optional_vars for item in statement.items if item.optional_vars is not None)


#: What a name means in a scope: `pytest`, `pytest.mark`, nothing of them (None), or, for a plain
#: alias (`mk = pytest.mark`), the expression it is assigned, judged where it is written.
Meaning = str | ast.expr | None


def _aliased_expression(statement: ast.stmt) -> ast.expr | None:
    """The value of `name = x`, `a = b = x` or `name: T = x` when `x` may mean `pytest` or `pytest.mark`.

    That is a name, or an attribute `mark` (`pytest.mark`); anything else
    assigned is no marker spelling.
    """
    if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
        value = statement.value
    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        value = statement.value
    else:
        return None
    if isinstance(value, ast.Name) or (isinstance(value, ast.Attribute) and value.attr == "mark"):
        return value
    return None


def _scope_bindings(scope: ast.AST) -> dict[str, Meaning]:
    """Names bound in `scope` itself (not in nested functions or classes), with what they mean.

    Only statements are read (an assignment expression `(pytest := x)` is
    not seen). A name bound to `pytest` (or `pytest.mark`) by an import keeps
    that meaning even when it is assigned elsewhere in the same scope, as a
    try/except import fallback would leave it; so does a plain alias
    (`mk = pytest.mark`), whose expression `_Collector.lookup` judges.
    """
    bindings: dict[str, Meaning] = {}

    def bind(name: str, meaning: Meaning) -> None:
        if bindings.get(name) is None:
            bindings[name] = meaning

    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = scope.args
        for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg):
            if arg is not None:
                bind(arg.arg, None)
    if isinstance(scope, ast.Lambda):
        return bindings
    for statement in _statements(scope.body):  # type: ignore[attr-defined]
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for name, meaning in _import_bindings(statement):
                bind(name, meaning)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(statement.name, None)
        aliased = _aliased_expression(statement)
        for target in _targets(statement):
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    bind(node.id, aliased)
        for handler in getattr(statement, "handlers", ()):
            if handler.name:
                bind(handler.name, None)
    return bindings


@dataclass
class _Scope:
    node: ast.AST
    #: Computed on the first lookup that reaches this scope.
    bindings: dict[str, Meaning] | None = None

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)

    def binds(self) -> dict[str, Meaning]:
        if self.bindings is None:
            self.bindings = _scope_bindings(self.node)
        return self.bindings


def _all_statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of the module, inside functions and classes too."""
    for statement in _statements(body):
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _all_statements(statement.body)


def _pytest_names(module: ast.Module) -> dict[str, str]:
    """Every name the module may bind to `pytest` or `pytest.mark`, with which: by an import, or a plain alias of one.

    Read by name alone, wherever bound (`lookup` then judges by scope):
    aliases are followed until no name is added (`mk = pytest.mark`,
    `m = mk`).
    """
    statements = list(_all_statements(module.body))
    names = {
        name: meaning
        for statement in statements
        if isinstance(statement, (ast.Import, ast.ImportFrom))
        for name, meaning in _import_bindings(statement)
        if meaning is not None
    }
    aliases = [(statement, value) for statement in statements if (value := _aliased_expression(statement)) is not None]
    changed = bool(names)
    while changed:
        changed = False
        for statement, value in aliases:
            meaning = _spelled_meaning(value, names)
            for target in _targets(statement):
                if meaning is not None and isinstance(target, ast.Name) and target.id not in names:
                    names[target.id] = meaning
                    changed = True
    return names


def _spelled_meaning(value: ast.expr, names: dict[str, str]) -> str | None:
    """What `value` may mean by its spelling: a name known to mean one, or `<pytest name>.mark`."""
    if isinstance(value, ast.Name):
        return names.get(value.id)
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and names.get(value.value.id) == PYTEST:
        return PYTEST_MARK
    return None


def _mark_lines(text: str, mark_aliases: Iterable[str]) -> list[int]:
    """1-based numbers of the lines that can matter: those mentioning `mark`, an alias of it, or `pytest_plugins`."""
    words = "|".join(re.escape(alias) for alias in sorted(mark_aliases) if alias != "mark")
    pattern = re.compile(rf"mark|pytest_plugins|\b(?:{words})\b" if words else "mark|pytest_plugins")
    return [number for number, line in enumerate(_LINE_BREAK.split(text), start=1) if pattern.search(line)]


def _literal_strings(node: ast.AST | None) -> list[str] | None:
    """The strings of a literal list, tuple or set of strings; None for anything else."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        values = [element.value for element in node.elts if isinstance(element, ast.Constant)]
        if len(values) == len(node.elts) and all(isinstance(value, str) for value in values):
            return values
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    return positional[position] if len(positional) > position else None


def _module_constants(module: ast.Module) -> dict[str, list[str]]:
    """`NAME = ["a: x", ...]` at module level: loops over NAME see these strings."""
    constants: dict[str, list[str]] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign):
            target, value = statement.target, statement.value
        else:
            continue
        strings = _literal_strings(value)
        if isinstance(target, ast.Name) and strings is not None:
            constants[target.id] = strings
    return constants


class _Collector(ast.NodeVisitor):
    def __init__(self, module: ast.Module, text: str, result: ModuleMarkers):
        self.result = result
        self.text = text
        self._lines: list[str] | None = None
        self.constants = _module_constants(module)
        self.pytest_names = _pytest_names(module)
        #: (name, scope depth) of the aliases being judged, against `a = b; b = a`.
        self._judging: set[tuple[str, int]] = set()
        self.mark_lines = _mark_lines(text, [n for n, m in self.pytest_names.items() if m == PYTEST_MARK])
        self.scopes = [_Scope(module)]
        self.loops: list[tuple[str, list[str]]] = []
        self._methods: dict[type, Callable[[ast.AST], None]] = {}

    def visit(self, node: ast.AST) -> None:
        # A statement none of whose lines mentions `mark` holds no use and no
        # registration: skipping it keeps the walk to the few relevant lines.
        if isinstance(node, ast.stmt):
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            first = bisect.bisect_left(self.mark_lines, start)
            if first == len(self.mark_lines) or self.mark_lines[first] > (node.end_lineno or node.lineno):
                return
        method = self._methods.get(type(node))
        if method is None:
            method = self._methods[type(node)] = getattr(self, f"visit_{type(node).__name__}", self.generic_visit)
        method(node)

    def generic_visit(self, node: ast.AST) -> None:
        """`ast.NodeVisitor.generic_visit`, minus the leaves that can hold no use (a third of all nodes)."""
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                        self.visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                self.visit(value)

    # Positions: ast counts columns in UTF-8 bytes, findings in characters.
    def _column(self, line: int, offset: int) -> int:
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.text)
        return len(self._lines[line - 1].encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    def _span(self, node: ast.expr) -> tuple[int, int, int, int]:
        end_line = node.end_lineno or node.lineno
        return node.lineno, self._column(node.lineno, node.col_offset), end_line, self._column(end_line, node.end_col_offset or 0)

    def lookup(self, name: str, depth: int | None = None) -> str | None:
        """What `name` means here (or in the scope at `depth` of the stack): `pytest`, `pytest.mark`, or None."""
        if name not in self.pytest_names:
            return None
        scopes = self.scopes if depth is None else self.scopes[: depth + 1]
        innermost = scopes[-1]
        for at in range(len(scopes) - 1, -1, -1):
            scope = scopes[at]
            if scope.is_class and scope is not innermost:
                continue  # class bodies are not visible from the methods inside them
            bindings = scope.binds()
            if name in bindings:
                meaning = bindings[name]
                return self._alias_meaning(name, meaning, at) if isinstance(meaning, ast.expr) else meaning
        return None

    def _alias_meaning(self, name: str, value: ast.expr, depth: int) -> str | None:
        """What an alias means: its value, judged in the scope that assigns it."""
        if (name, depth) in self._judging:
            return None
        self._judging.add((name, depth))
        try:
            return self.meaning(value, depth)
        finally:
            self._judging.discard((name, depth))

    def meaning(self, node: ast.AST, depth: int | None = None) -> str | None:
        if isinstance(node, ast.Name):
            return self.lookup(node.id, depth)
        if isinstance(node, ast.Attribute) and node.attr == "mark" and self.meaning(node.value, depth) == PYTEST:
            return PYTEST_MARK
        return None

    def _use(self, name: str, site: ast.expr, rename_at: tuple[int, int] | None) -> None:
        self.result.uses.append(MarkerUse(name, *self._span(site), rename_at))

    def _string_rename_at(self, node: ast.expr, name: str) -> tuple[int, int] | None:
        """Where a plain one-piece string literal holding `name` starts; None for anything fancier."""
        segment = ast.get_source_segment(self.text, node) or ""
        prefix = _STRING_PREFIX.match(segment).group()  # type: ignore[union-attr]
        body = segment[len(prefix) :]
        if any(body == f"{quote}{name}{quote}" for quote in ('"""', "'''", '"', "'")):
            line, col, _, _ = self._span(node)
            return line, col
        return None

    # -- scopes
    def _visit_scope(self, node: ast.AST, outside: Sequence[ast.AST], inside: Sequence[ast.AST]) -> None:
        for child in outside:
            self.visit(child)
        self.scopes.append(_Scope(node))
        for child in inside:
            self.visit(child)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = node.args
        outside = [*node.decorator_list, *arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
        self._visit_scope(node, outside, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_scope(node, [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)], [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_scope(node, [*node.decorator_list, *node.bases, *node.keywords], node.body)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        strings = _literal_strings(node.iter)
        if strings is None and isinstance(node.iter, ast.Name):
            strings = self.constants.get(node.iter.id)
        target = node.target.id if isinstance(node.target, ast.Name) and strings is not None else ""
        self.loops.append((target, strings or []))
        self.generic_visit(node)
        self.loops.pop()

    visit_AsyncFor = visit_For

    # -- uses and registrations
    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.meaning(node.value) == PYTEST_MARK:
            end_line = node.end_lineno or node.lineno
            end_col = self._column(end_line, node.end_col_offset or 0)
            self._use(node.attr, node, (end_line, end_col - len(node.attr)))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "addinivalue_line":
            self._registration(node)
        elif isinstance(func, ast.Attribute) and func.attr == "add_marker":
            marker = _argument(node, 0, "marker")
            name = _string(marker)
            if name is not None:
                self._use(name, node, self._string_rename_at(marker, name))  # type: ignore[arg-type]
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            name = _string(node.args[1])
            if self.meaning(node.args[0]) == PYTEST_MARK and name is not None:
                self._use(name, node, self._string_rename_at(node.args[1], name))
        self.generic_visit(node)

    def _registration(self, node: ast.Call) -> None:
        if _string(_argument(node, 0, "name")) != "markers":
            return
        line = _argument(node, 1, "line")
        text = _string(line)
        if text is not None:
            self.result.registrations.append(text)
        elif isinstance(line, ast.Name):
            for target, strings in reversed(self.loops):
                if target == line.id:
                    self.result.registrations.extend(strings)
                    break

    def visit_Assign(self, node: ast.Assign) -> None:
        is_module_level = len(self.scopes) == 1
        targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if is_module_level and "pytest_plugins" in targets:
            single = _string(node.value)
            self.result.plugins.extend([single] if single is not None else _literal_strings(node.value) or [])
        self.generic_visit(node)


#: Every spelling above contains it.
MARKER_NEEDLE = "mark"


def might_use_markers(text: str) -> bool:
    """Cheap test before parsing: every spelling above contains `MARKER_NEEDLE`."""
    return MARKER_NEEDLE in text


def collect(path: Path, text: str) -> ModuleMarkers:
    """The marker uses and registrations in `text`; raises MarkerScanError."""
    try:
        with warnings.catch_warnings():
            # Invalid escapes and the like are the scanned code's business.
            warnings.simplefilter("ignore")
            module = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise MarkerScanError(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise MarkerScanError(f"cannot parse: {exc}") from None
    result = ModuleMarkers(path)
    try:
        _Collector(module, text, result).visit(module)
    except RecursionError:
        raise MarkerScanError("too deeply nested to analyse") from None
    return result


def scan_file(path: Path, registered: frozenset[str] | None = None) -> ModuleMarkers:
    """The marker uses and registrations of one file; raises MarkerScanError.

    With `registered`, a file whose text shows that it uses only those
    markers and registers none (`plainly_used_markers`) is not parsed: its
    uses would all be judged registered, so they are not collected.
    """
    try:
        source = read_source(path)
    except SourceError as exc:
        raise MarkerScanError(str(exc)) from None
    if not might_use_markers(source.text):
        return ModuleMarkers(path)
    if registered is not None:
        plain = plainly_used_markers(source.text)
        if plain is not None:
            if plain <= registered:
                return ModuleMarkers(path)
            scanned = _collect_around(path, source.text, plain - registered)
            if scanned is not None:
                return scanned
    return collect(path, source.text)


#: Collect from a partial text only when it leaves out at least this share of the lines.
_WORTH_LEAVING_OUT = 0.5


def _collect_around(path: Path, text: str, names: set[str]) -> ModuleMarkers | None:
    """`collect` of the text less the top-level scopes writing no `mark.<name>` of `names`; None: collect it all.

    For a file that uses markers only as `mark.<name>` (`plainly_used_markers`),
    only the uses of unregistered `names` can be reported. A test module
    marks most of its tests, nearly always with registered markers, and
    parsing and walking every test for the one typo was most of the rule's
    time on a monorepo. The other scopes' lines are emptied (line numbers
    and columns stay); module-level code stays, so imports and aliases are
    still seen. A cut the parse rejects, or that a statement spans (a line
    at column 0 inside a string), gives None, and so does a file of which
    little would go: the whole text decides. So does a file that does not
    compile: its syntax error is reported as `collect` reports it. The
    whole file's symbol table tells, CPython's parser without the tree's
    Python objects, for less than half of an `ast.parse`.
    """
    lines = split_lines(text)
    wanted = re.compile(r"mark\.(?:" + "|".join(map(re.escape, sorted(names))) + r")(?!\w)")
    unneeded = tuple(
        (first, last)
        for first, last, is_scope in top_level_segments(lines)
        if is_scope and wanted.search("".join(lines[first - 1 : last])) is None
    )
    if sum(last - first + 1 for first, last in unneeded) < _WORTH_LEAVING_OUT * len(lines):
        return None
    partial = blank_lines(lines, list(unneeded))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, str(path), "exec")
            module = ast.parse(partial, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not clean_cut(module, unneeded):
        return None
    result = ModuleMarkers(path)
    try:
        _Collector(module, partial, result).visit(module)
    except RecursionError:
        return None
    return result


#: `mark.<name>`, and any `mark` as a word end: with no leading `\b`, both search fast and count alike.
_PLAIN_USE = re.compile(r"mark\.([^\W\d]\w*)")
_ANY_MARK = re.compile(r"mark\b")
#: Spellings that use or register a marker without writing `mark.<name>`.
_OTHER_SPELLINGS = ("add_marker", "getattr", "addinivalue_line", "pytest_plugins")


def plainly_used_markers(text: str) -> set[str] | None:
    """Every name written as `mark.<name>`, when that is the only way the text may use a marker; else None.

    Every use the `ast` collection finds is then among these names: an
    alias of `pytest.mark` needs `mark` not followed by `.` (`mark as m`,
    `m = pytest.mark`), which gives None, and so do the string spellings
    (`add_marker("x")`, `getattr(pytest.mark, "x")`) and registrations.
    Strings and comments only add names.
    """
    if any(word in text for word in _OTHER_SPELLINGS):
        return None
    names = _PLAIN_USE.findall(text)
    if len(names) != len(_ANY_MARK.findall(text)):
        return None
    return set(names)
