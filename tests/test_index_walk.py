"""The index's statement-level walk gives exactly what a walk of every node gives.

`analyse_module` looks into a statement's expressions only when its lines
spell `await`, `yield` or an awaitable consumer (index.py, `_ModuleWalk`).
The oracle below is the plain way: `ast.walk` over every node, and a
`NodeVisitor` over each function body. Both must agree on every module
entry, for the fixture trees, for odd shapes written here, and (slow) for
the whole standard library.
"""

from __future__ import annotations

import ast
import sysconfig
import warnings
from pathlib import Path

import pytest

from codefix.lexical import AWAITABLE_CONSUMERS
from codefix.index import (
    ImportRef,
    ModuleInfo,
    _awaited_calls_at,
    _function_info,
    _FunctionFacts,
    _module_level_statements,
    _record_statement,
    analyse_module,
    awaited_call_lines,
)

FIXTURES = Path(__file__).parent / "fixtures"


class _ReferenceFacts(ast.NodeVisitor):
    """Function facts by visiting every node of the body, nested scopes skipped."""

    def __init__(self, facts: _FunctionFacts):
        self.facts = facts

    def visit_Assign(self, node: ast.Assign) -> None:
        self.facts.on_assign(node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.AST) -> None:
        return

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef

    def visit_Return(self, node: ast.Return) -> None:
        self.facts.on_return(node)
        self.generic_visit(node)

    def visit_Yield(self, node: ast.AST) -> None:
        self.facts.is_generator = True
        self.generic_visit(node)

    visit_YieldFrom = visit_Yield

    def visit_Import(self, node: ast.Import) -> None:
        self.facts.on_import(node)

    visit_ImportFrom = visit_Import


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (head := _dotted(node.value)):
        return f"{head}.{node.attr}"
    return None


def reference_aliases(tree: ast.Module, text: str) -> dict[str, set[str]]:
    """Every `name = dotted` statement on one line (annotated too), from the tree: what the resolver follows."""
    lines = text.splitlines()
    aliases: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        value = _dotted(node.value)
        if value is None or node.lineno != node.end_lineno:
            continue
        if not lines[node.lineno - 1][: node.value.col_offset].rstrip().endswith("="):
            continue  # `x = (f)`: in parentheses, not followed
        for target in targets:
            if isinstance(target, ast.Name) and target.id != value:
                aliases.setdefault(target.id, set()).add(value)
    return aliases


def reference_aliased_callees(callees: set[str], aliases: dict[str, set[str]]) -> set[str]:
    """Each callee key with its head replaced by what an alias assigns it, again until nothing is added."""
    found = set(callees)
    while True:
        more = set()
        for key in found:
            head, dot, last = key.partition(".")
            for value in aliases.get(head, ()):
                first = value.partition(".")[0]
                more.add(f"{first}.{last}" if dot else f"{first}.{value.rpartition('.')[2]}" if "." in value else value)
        if more <= found:
            return found
        found |= more


def reference_consumers(tree: ast.Module) -> set[str]:
    """The APIs taking awaitables, and every name an import binds one to (`run as start`), from the tree."""
    consumers = set(AWAITABLE_CONSUMERS)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            consumers.update(alias.asname for alias in node.names if alias.asname and alias.name in AWAITABLE_CONSUMERS)
    return consumers


def reference_module(tree: ast.Module, name: str, path: str, is_package: bool, text: str = "") -> ModuleInfo:
    info = ModuleInfo(name=name, path=path, is_package=is_package)
    class_bodies: set[int] = set()
    awaited: set[str] = set()
    imported: set[str] = set()
    scoped: set[str] = set()
    in_scopes = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for statement in node.body
        for inner in ast.walk(statement)
    }
    consumers = reference_consumers(tree)
    for node in ast.walk(tree):
        awaited.update(key for _, key in _awaited_calls_at(node, consumers))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
            imported.update(bound)
            if id(node) in in_scopes:
                scoped.update(bound)
        if isinstance(node, ast.ClassDef):
            class_bodies.update(id(item) for item in node.body)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            facts = _FunctionFacts(info.package)
            visitor = _ReferenceFacts(facts)
            for statement in node.body:
                visitor.visit(statement)
            info.functions_by_line[node.lineno] = _function_info(node, info.name, info.path, id(node) in class_bodies, facts)
    info.awaited_callees = frozenset(reference_aliased_callees(awaited, reference_aliases(tree, text)))
    info.imported_names = frozenset(imported)
    info.scoped_imported_names = frozenset(scoped)
    for statement in _module_level_statements(tree.body):
        _record_statement(statement, info)
    info.symbols = dict(info.symbols)
    return info


def assert_same_entry(text: str, name: str = "pkg.mod", path: str = "pkg/mod.py") -> ModuleInfo:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    fast = analyse_module(tree, name, path, path.endswith("__init__.py"), text)
    assert fast == reference_module(tree, name, path, path.endswith("__init__.py"), text)
    return fast


ODD_SHAPES = {
    "await split over lines": "async def f():\n    x = (\n        1 +\n        await g()\n    )\n",
    "await in a decorator argument and a default": "async def f(a=await g()):\n    pass\n\n\n@deco(await h())\nasync def k():\n    pass\n",
    "consumer behind a continuation": "import asyncio\n\n\ndef main():\n    asyncio.\\\n        run(serve())\n",
    "yield in a lambda is not the function's": "def f():\n    return lambda: (yield)\n",
    "yield in a nested function is not the outer's": "def outer():\n    def inner():\n        yield 1\n    return inner\n",
    "yield in while header and elif": "def f(x):\n    while (yield x):\n        pass\n    if x:\n        pass\n    elif (yield 2):\n        pass\n",
    "methods only directly in a class body": "class A:\n    def m(self):\n        pass\n    if True:\n        def n(self):\n            pass\n",
    "match guards and except types": (
        "async def f(x):\n    match x:\n        case 1 if await g():\n            pass\n"
        "    try:\n        pass\n    except (await h()):\n        pass\n"
    ),
    "imports in a class body and under a module-level if": (
        "import os\n\nif os:\n    import json\n\n\nclass A:\n    if True:\n        from x import y\n    import z\n"
    ),
    "local imports and returned calls": (
        "def f(a):\n    from .impl import connect as c\n    import os.path\n    client = c(a)\n    if a:\n        return client\n    return a\n"
    ),
    "form feed is not a line break": "def f():\n    x = 1\x0c\n    return (yield x)\n",
    "crlf and lone cr": "async def f():\r\n    a = 1\r    return await g(a)\r\n",
    "comprehension awaits": "async def f(xs):\n    return [await g(x) for x in xs if await h(x)]\n",
    "with items and for targets": "async def f():\n    async with open_it() as c:\n        async for row in c.rows():\n            await c.execute(row)\n",
    "class bases and keywords": "class A(make_base(), metaclass=await_meta()):\n    x = 1\n",
    "signal word only in a string": "def f():\n    return 'await yield run'\n",
    "aliases of awaited callees": (
        "import pkg.ws as ws\nfrom pkg import load\n\nfetch = load\nw: object = ws\nfirst = second = pkg.ws.make\n\n\n"
        "async def f(make):\n    grab = fetch; keep = None\n    loop = loop\n    await grab()\n    await w.load()\n"
        "    await second()\n    await keep()\n    await loop()\n    await (make)()\n"
    ),
    "consumers under other names": (
        "import asyncio\nfrom asyncio import run as start, gather as g\n\nbegin = asyncio.run\nagain = begin\n\n\n"
        "def main():\n    start(one())\n    begin(two())\n    g(three(), four())\n    again(five())\n    other(six())\n"
    ),
    "aliases the text does not read plainly": (
        "async def f():\n    grab = (load)\n    other = (\n        load\n    )\n    await grab()\n    await other()\n"
    ),
}


@pytest.mark.parametrize("name", list(ODD_SHAPES))
def test_odd_shapes_give_the_reference_entry(name: str):
    assert_same_entry(ODD_SHAPES[name])


def test_the_shapes_are_not_trivially_equal():
    entry = assert_same_entry(ODD_SHAPES["await in a decorator argument and a default"])
    assert entry.awaited_callees == {"g", "h"}
    lambda_case = assert_same_entry(ODD_SHAPES["yield in while header and elif"])
    assert lambda_case.functions_by_line[1].is_generator
    assert not assert_same_entry(ODD_SHAPES["yield in a lambda is not the function's"]).functions_by_line[1].is_generator
    aliased = assert_same_entry(ODD_SHAPES["aliases of awaited callees"])
    assert aliased.awaited_callees == {"grab", "fetch", "load", "w.load", "ws.load", "second", "pkg.make", "keep", "loop", "make"}
    assert assert_same_entry(ODD_SHAPES["aliases the text does not read plainly"]).awaited_callees == {"grab", "other"}
    renamed = assert_same_entry(ODD_SHAPES["consumers under other names"])
    assert renamed.awaited_callees == {"one", "three", "four"}  # `begin = asyncio.run` is not read (consumer_names)
    imports = assert_same_entry(ODD_SHAPES["local imports and returned calls"]).functions_by_line[1]
    assert ("c", ImportRef("pkg.impl", "connect")) in imports.local_imports and imports.returned_calls == ("c",)


def _python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if path.is_file())


def _compare_files(files: list[Path]) -> int:
    compared = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        try:
            assert_same_entry(text, path.stem, path.name)
        except RecursionError:
            continue
        compared += 1
    return compared


def test_every_fixture_file_gives_the_reference_entry():
    assert _compare_files(_python_files(FIXTURES)) > 100


def test_asyncio_gives_the_reference_entry():
    assert _compare_files(_python_files(Path(sysconfig.get_paths()["stdlib"]) / "asyncio")) > 20


@pytest.mark.slow
def test_the_standard_library_gives_the_reference_entry():
    """Every third file (the reference walk is slow): some 600 modules of every style."""
    assert _compare_files(_python_files(Path(sysconfig.get_paths()["stdlib"]))[::3]) > 500


# --- awaited_call_lines: the text-only view of awaited calls that the reduction relies on ----------


def _ast_sites(tree: ast.AST):
    """The reference: every node of the tree asked, not only those on lines the text points at."""
    for node in ast.walk(tree):
        yield from _awaited_calls_at(node)


def assert_text_lines_cover_the_sites(text: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    by_line: dict[int, set[str | None]] = {}
    for line, key in awaited_call_lines(text):
        by_line.setdefault(line, set()).add(key)
    sites = 0
    for node, key in _ast_sites(tree):
        sites += 1
        covering = [
            keys for line, keys in by_line.items() if node.lineno <= line <= (node.end_lineno or node.lineno)
        ]
        assert any(key in keys or None in keys for keys in covering), (node.lineno, key, text[:200])
    return sites


#: Each shape with the number of sites the reference finds in it.
AWAIT_SHAPES = {
    "plain": "async def f():\n    await a.b.c(1)\n    await g()\n",
    "spaces and line breaks": "async def f():\n    await a . b(1)\n    await (\n        g()\n    )\n    await g (2)\n    await a.\\\n        b()\n",
    "comment after await": "async def f():\n    await (  # why\n        g())\n",
    "consumer split over lines": "import asyncio\n\n\ndef main():\n    asyncio.gather(\n        f(),\n        g(),\n    )\n    asyncio\\\n        .run(h())\n",
    "call on a call": "async def f():\n    await a.b(1).c()\n    await a[0]()\n",
    "unicode names": "async def f():\n    await größe.méthode()\n",
    "await-like names are not awaits": "async def f(await_x):\n    my_await = 1\n    return await g(await_x)\n",
}


SITES = {"plain": 2, "spaces and line breaks": 4, "comment after await": 1, "consumer split over lines": 3,
         "call on a call": 0, "unicode names": 1, "await-like names are not awaits": 1}


@pytest.mark.parametrize("name", list(AWAIT_SHAPES))
def test_text_lines_cover_every_awaited_call(name: str):
    assert assert_text_lines_cover_the_sites(AWAIT_SHAPES[name]) == SITES[name]


def test_text_lines_give_the_callee_key_when_the_text_shows_it_plainly():
    assert dict(awaited_call_lines(AWAIT_SHAPES["plain"])) == {2: "a.c", 3: "g"}
    assert list(awaited_call_lines("x = 'my_await'\nawait_y = 2\n")) == []


def test_text_lines_cover_every_awaited_call_of_the_fixtures_and_asyncio():
    sites = 0
    for path in [*_python_files(FIXTURES), *_python_files(Path(sysconfig.get_paths()["stdlib"]) / "asyncio")]:
        try:
            text = path.read_text(encoding="utf-8")
            sites += assert_text_lines_cover_the_sites(text)
        except (UnicodeDecodeError, SyntaxError):
            continue
    assert sites > 300


def test_relative_names_are_relative_name_s_for_every_kind_of_path(tmp_path: Path):
    """The shortcut for walked files gives `relative_name`'s answer; links and odd paths take its way."""
    import os

    from codefix.discovery import relative_name, relative_names

    root = (tmp_path / "root").resolve()
    (root / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for name in ("a.py", "pkg/b.py", "pkg/sub/c.py"):
        (root / name).write_text("x = 1\n")
    (tmp_path / "elsewhere" / "d.py").write_text("x = 1\n")
    os.symlink(tmp_path / "elsewhere", root / "linked")
    os.symlink(root / "pkg" / "b.py", root / "alias.py")
    files = [
        root / "a.py",
        root / "pkg" / "b.py",
        root / "pkg" / "sub" / "c.py",
        root / "linked" / "d.py",  # a file in a linked folder
        root / "alias.py",  # a linked file
        root / "pkg" / ".." / "a.py",  # not normalized
        tmp_path / "elsewhere" / "d.py",  # outside the root
    ]
    names = relative_names(files, root)
    assert names == {str(file): relative_name(file, root) for file in files}
    assert names[str(root / "pkg" / "sub" / "c.py")] == "pkg/sub/c.py"
    assert names[str(root / "alias.py")] == "pkg/b.py"

    # Told which files are links (a walk knows), it asks no one and answers the same.
    from codefix.discovery import Exclusion, walk_project

    walk = walk_project(root, [root], Exclusion(root))
    assert walk.linked == {root / "alias.py"}
    asked: list[str] = []
    real_islink = os.path.islink
    try:
        os.path.islink = lambda path: asked.append(path) or real_islink(path)
        told = relative_names(walk.file_texts, root, walk.linked_texts)
    finally:
        os.path.islink = real_islink
    assert asked == [] and told == {str(file): relative_name(file, root) for file in walk.files}
    assert told[str(root / "alias.py")] == "pkg/b.py"


def test_targets_outside_the_root_are_told_by_path_not_by_text_prefix(tmp_path: Path):
    from codefix.discovery import outside_root

    root = tmp_path / "proj"
    inside, deep = root / "a.py", root / "pkg" / "b.py"
    sibling, elsewhere = tmp_path / "project2" / "c.py", tmp_path / "other" / "d.py"
    targets = [inside, sibling, deep, elsewhere, root]
    assert outside_root(targets, root) == [sibling, elsewhere]
    assert outside_root(targets, root) == [t for t in targets if not t.is_relative_to(root)]


def test_a_walk_spells_each_file_as_its_path_does(tmp_path: Path):
    """The walk keeps files as text; the state, the signatures and the index key them by `str(path)`, so the two must agree."""
    from codefix.discovery import Exclusion, iter_python_files, walk_project

    root = tmp_path / "proj"
    names = ["a.py", "pkg/b.py", "pkg/sub dir/c d.py", "pkg/.hidden/e.py", "pkg/ünï/f.py", "pkg/x.y/g.py", "pkg/..z/h.py"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    walk = walk_project(root, [root / "pkg"], Exclusion(root))
    assert walk.file_texts == [str(path) for path in walk.files]
    assert walk.files == list(iter_python_files(root, exclusion=Exclusion(root)))
    assert sorted(str(path.relative_to(root)) for path in walk.files) == sorted(names)
    assert walk.targets == [path for path in walk.files if path.parent != root]
