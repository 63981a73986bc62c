"""libcst_walk.py: read-only visits make LibCST's own calls, on the same nodes, in the same order."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ParentNodeProvider, ScopeProvider

from codefix import libcst_walk

FIXTURES = Path(__file__).parent / "fixtures"
STDLIB = Path(inspect.getfile(inspect)).parent

#: Real code covering most of the grammar: f-strings with format specs, decorators, star
#: imports, comprehensions, match statements, async code, type hints, lambdas, walrus.
SOURCES = [
    *(STDLIB / name for name in ("inspect.py", "dataclasses.py", "typing.py", "argparse.py", "ast.py", "string.py")),
    *(STDLIB / "asyncio" / name for name in ("tasks.py", "base_events.py", "streams.py")),
    *(STDLIB / "re" / name for name in ("_parser.py", "_compiler.py")),
    STDLIB / "test" / "test_patma.py",
]

EDGE_CASES = """\
from . import (a, b as c)
from .. import *
import x.y as z
print(f"{value!r:>{width}} {other=} {plain}")
type Alias[T: int = str, *Ts, **P] = list[T]
def generic[T](x: T) -> T: ...
class Box[T](Base, metaclass=Meta): pass
match point:
    case Point(x=0, y=0) | [1, *rest] | {"k": v, **kw} if v > 0:
        pass
    case str() as s:
        pass
async def g():
    async with a as b, c:
        async for i in (j async for j in k):
            await (yield)
lambda *args, x=1, **kw: (y := x)
try:
    pass
except* (E, F) as e:
    del e
global_ = [*a, *b]; del global_
"""


class _Recorder(cst.CSTVisitor):
    """Records every callback with the node it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.calls.append(("visit", id(node), type(node).__name__))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.calls.append(("leave", id(original_node), ""))

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.calls.append(("visit_attribute", id(node), attribute))

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.calls.append(("leave_attribute", id(original_node), attribute))


class _SkipsFunctions(_Recorder):
    """A visitor that prunes: children of a def are not visited."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        super().on_visit(node)
        return not isinstance(node, cst.FunctionDef)


@functools.cache
def _modules() -> tuple[tuple[str, cst.Module], ...]:
    return tuple(_parsed())


def _parsed() -> Iterator[tuple[str, cst.Module]]:
    yield "edge cases", cst.parse_module(EDGE_CASES)
    for path in [*SOURCES, *sorted(FIXTURES.rglob("*.py"))[:200]]:
        try:
            yield str(path), cst.parse_module(path.read_text(encoding="utf-8"))
        except (cst.ParserSyntaxError, UnicodeDecodeError):
            continue  # fixtures of broken files


@contextmanager
def libcsts_own_visit():
    libcst_walk.uninstall()
    try:
        yield
    finally:
        libcst_walk.install()


def _calls(module: cst.Module, visitor_class: type[_Recorder]) -> list[tuple[str, int, str]]:
    visitor = visitor_class()
    module.visit(visitor)
    return visitor.calls


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    by_id: dict[int, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        by_id[id(node)] = node
        stack.extend(node.children)
    return list(by_id.values())


def test_every_node_class_of_libcst_has_a_plan():
    classes = [c for c in vars(cst).values() if inspect.isclass(c) and issubclass(c, cst.CSTNode) and not inspect.isabstract(c)]
    assert len(classes) > 150
    assert [c.__name__ for c in classes if libcst_walk.plan_of(c) is None] == []


def test_a_method_that_visits_otherwise_keeps_libcsts_visit():
    import ast

    source = "def _visit_and_replace_children(self, visitor):\n    return N(a=self.a.visit(visitor))\n"
    assert libcst_walk._plan_from_source(ast.parse(source)) is None
    other_helper = "def _visit_and_replace_children(self, visitor):\n    return N(a=visit_all(self, 'a', self.a, visitor))\n"
    assert libcst_walk._plan_from_source(ast.parse(other_helper)) is None


@pytest.mark.parametrize("visitor_class", [_Recorder, _SkipsFunctions])
def test_the_callbacks_are_libcsts(visitor_class):
    libcst_walk.install()
    modules = list(_modules())
    assert len(modules) > 100
    ours = [_calls(module, visitor_class) for _, module in modules]
    assert sum(len(calls) for calls in ours) > 100_000
    with libcsts_own_visit():
        for (name, module), calls in zip(modules, ours):
            assert calls == _calls(module, visitor_class), name


def test_children_are_libcsts():
    libcst_walk.install()
    modules = [*_modules()[:3], *_modules()[-100:]]
    ours = {name: [(id(node), [id(c) for c in node.children]) for node in _all_nodes(module)] for name, module in modules}
    with libcsts_own_visit():
        for name, module in modules:
            assert [(id(node), [id(c) for c in node.children]) for node in _all_nodes(module)] == ours[name], name


def _provider_view(module: cst.Module) -> list[tuple[int, str, str, str]]:
    """What the providers say of each node, by node identity, in a comparable form."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    contexts = wrapper.resolve(ExpressionContextProvider)
    in_tree = {id(node) for node in _all_nodes(module)}  # not the nodes of parsed string annotations, new each time
    view = []
    for node, scope in scopes.items():
        if id(node) not in in_tree:
            continue
        described = "" if scope is None else f"{type(scope).__name__}:{sorted(scope._assignments)}:{scope._assignment_count}"
        view.append((id(node), described, str(id(parents.get(node))), str(contexts.get(node))))
    return sorted(view)


def test_scopes_parents_and_expression_contexts_are_libcsts():
    libcst_walk.install()
    modules = [module for _, module in _modules()[:4]] + [module for _, module in _modules()[-60:]]
    ours = [_provider_view(module) for module in modules]
    with libcsts_own_visit():
        assert [_provider_view(module) for module in modules] == ours


def test_the_scope_visitors_type_check_answers_as_isinstance_does():
    from libcst.metadata import scope_provider

    libcst_walk.install()
    check = scope_provider._ASSIGNMENT_LIKE_NODES
    classes = libcst_walk._original_assignment_like
    assert not isinstance(check, tuple) and isinstance(classes, tuple)
    nodes = [node for _, module in _modules()[-20:] for node in _all_nodes(module)]
    assert sum(isinstance(node, classes) for node in nodes) > 100
    assert [isinstance(node, check) for node in nodes] == [isinstance(node, classes) for node in nodes]
    with libcsts_own_visit():
        assert scope_provider._ASSIGNMENT_LIKE_NODES is classes


def test_node_parents_are_the_parent_providers():
    with libcsts_own_visit():
        modules = [module for _, module in _modules()[:4]] + [module for _, module in _modules()[-60:]]
        expected = [MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider) for module in modules]
    assert sum(map(len, expected)) > 10_000
    for module, parents in zip(modules, expected):
        ours = libcst_walk.NodeParents(module)
        assert len(ours) == len(parents)
        assert all(node in ours and ours[node] is parent for node, parent in parents.items())
        assert module not in ours


def test_transformers_still_rebuild():
    class Renamer(cst.CSTTransformer):
        def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
            return updated_node.with_changes(value=updated_node.value.upper())

    assert cst.parse_module("f(x)\n").visit(Renamer()).code == "F(X)\n"


def test_installed_by_the_engine():
    import codefix.engine  # noqa: F401 - installs on import

    assert cst.CSTNode.visit is libcst_walk._read_only_visit
    assert sys.modules["codefix.libcst_walk"] is libcst_walk


def test_attribute_calls_are_skipped_only_when_they_cannot_do_anything():
    from libcst._batched_visitor import _BatchedCSTVisitor

    class Plain(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            pass

    class WithHook(cst.CSTVisitor):
        def leave_ClassDef_bases(self, node: cst.ClassDef) -> None:
            pass

    assert not libcst_walk._has_attribute_hooks(Plain())
    assert libcst_walk._has_attribute_hooks(WithHook())
    assert libcst_walk._has_attribute_hooks(_Recorder())  # its own on_visit_attribute
    given = Plain()
    given.visit_Call_func = lambda node: None
    assert libcst_walk._has_attribute_hooks(given)
    assert not libcst_walk._has_attribute_hooks(_BatchedCSTVisitor({"visit_Name": [print]}))
    assert libcst_walk._has_attribute_hooks(_BatchedCSTVisitor({"visit_ClassDef_bases": [print]}))


def test_an_attribute_hook_is_called_around_its_field():
    seen: list[str] = []

    class Hooked(cst.CSTVisitor):
        def visit_ClassDef_bases(self, node: cst.ClassDef) -> None:
            seen.append("bases")

        def visit_Name(self, node: cst.Name) -> None:
            seen.append(node.value)

    libcst_walk.install()
    cst.parse_module("class C(B): x = y\n").visit(Hooked())
    assert seen == ["C", "bases", "B", "x", "y"]
