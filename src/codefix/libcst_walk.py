"""Read-only LibCST visits that do not rebuild the tree they read.

LibCST visits every node through `_visit_and_replace_children`, which builds
(and validates) a new copy of the node even for a `CSTVisitor`, whose result
is thrown away ("TODO: provide traversal where children are not replaced",
says LibCST's own `visit`). `CSTNode.children` does the same once per node,
and the parent provider asks for it on every node. The scope, parent and
expression-context providers and our rules' collectors are all such
read-only visits: rebuilding was half of the analysis of a candidate file.

Here each node class's *visit plan* (its child fields, in the order its own
`_visit_and_replace_children` visits them) is read once from that method's
source, and a read-only visit walks the fields in that order, making the same
`on_visit`/`on_visit_attribute`/`on_leave_attribute`/`on_leave` calls on the
same nodes, without building anything. A class whose method does not read
as a plain sequence of LibCST's `visit_*` helpers on its own fields keeps
LibCST's visit; transformers always do. tests/test_libcst_walk.py checks
that the calls and `children` are LibCST's, node for node, on real code.
Parents need no visit at all: `NodeParents` walks the plans.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from libcst import CSTNode, CSTVisitor, MaybeSentinel
from libcst.metadata import scope_provider as _scope_provider

try:
    from libcst._batched_visitor import _BatchedCSTVisitor
except ImportError:  # a LibCST that moved it: its batched visits make every attribute call, correct and slower
    _BatchedCSTVisitor = None

#: LibCST's helpers that visit one field of a node (libcst/_nodes/internal.py).
_FIELD_VISITORS = frozenset(
    {
        "visit_required",
        "visit_optional",
        "visit_sentinel",
        "visit_iterable",
        "visit_sequence",
        "visit_body_iterable",
        "visit_body_sequence",
    }
)


#: The helpers among those that visit a sequence of children.
_SEQUENCE_VISITORS = frozenset({"visit_iterable", "visit_sequence", "visit_body_iterable", "visit_body_sequence"})


@dataclass(frozen=True)
class _Field:
    name: str
    #: Visited only when the value is not None (`visit_sequence(...) if x is not None else None`):
    #: a None value then gets no attribute callbacks either.
    only_when_present: bool
    #: Holds a sequence of nodes, not one node (or None, or `MaybeSentinel`).
    is_sequence: bool


_original_visit = CSTNode.visit
_original_children = CSTNode.children
#: Plans by the function object of `_visit_and_replace_children`; None: LibCST's visit.
_plans_by_method: dict[Any, tuple[_Field, ...] | None] = {}
_plans_by_class: dict[type, tuple[_Field, ...] | None] = {}


def _read_plan(cls: type) -> tuple[_Field, ...] | None:
    """The fields `_visit_and_replace_children` visits, in order; None when its source is not that simple."""
    method = getattr(cls, "_visit_and_replace_children", None)
    if method is None:
        return None
    if method not in _plans_by_method:  # subclasses share their base's method (`Not`, `Plus`...)
        try:
            _plans_by_method[method] = _plan_from_source(ast.parse(textwrap.dedent(inspect.getsource(method))))
        except (OSError, TypeError, SyntaxError):
            _plans_by_method[method] = None
    plan = _plans_by_method[method]
    try:
        field_names = {field.name for field in dataclasses.fields(cls)}
    except TypeError:  # not a dataclass: not a node LibCST builds
        return None
    if plan is None or any(field.name not in field_names for field in plan):
        return None
    return plan


def _plan_from_source(tree: ast.Module) -> tuple[_Field, ...] | None:
    function = tree.body[0] if tree.body else None
    if not isinstance(function, ast.FunctionDef):
        return None
    conditional: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.IfExp, ast.If, ast.BoolOp)):
            conditional.update(id(inner) for inner in ast.walk(node))
    calls = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name is None or not name.startswith("visit"):
            if isinstance(node.func, ast.Attribute) and node.func.attr.startswith("visit"):
                return None  # a child visited some other way
            continue
        if name not in _FIELD_VISITORS or len(node.args) != 4:
            return None
        parent, field, _, _ = node.args
        if not (isinstance(parent, ast.Name) and parent.id == "self"):
            return None
        if not (isinstance(field, ast.Constant) and isinstance(field.value, str)):
            return None
        calls.append((node.lineno, node.col_offset, field.value, id(node) in conditional, name in _SEQUENCE_VISITORS))
    plan: list[_Field] = []
    seen: set[str] = set()
    for _, _, name, is_conditional, is_sequence in sorted(calls):
        if name not in seen:
            seen.add(name)
            # `names` of `ImportFrom`, visited in both branches of a conditional, is always visited:
            # one node (`*`) or a sequence, told apart when walking.
            always = is_conditional and _visited_in_every_branch(function, name)
            plan.append(_Field(name, is_conditional and not always, is_sequence and not always))
    return tuple(plan)


def _visited_in_every_branch(function: ast.FunctionDef, name: str) -> bool:
    """True when each conditional visiting `name` visits it in both branches."""
    found = False
    for node in ast.walk(function):
        if isinstance(node, ast.IfExp):
            in_body = _visits(node.body, name)
            in_else = _visits(node.orelse, name)
            if in_body or in_else:
                if not (in_body and in_else):
                    return False
                found = True
    return found


def _visits(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(inner, ast.Call)
        and len(inner.args) == 4
        and isinstance(inner.args[1], ast.Constant)
        and inner.args[1].value == name
        for inner in ast.walk(node)
    )


def plan_of(cls: type) -> tuple[_Field, ...] | None:
    """The visit plan of a node class, read once; None: it keeps LibCST's own visit."""
    try:
        return _plans_by_class[cls]
    except KeyError:
        plan = _plans_by_class[cls] = _read_plan(cls)
        return plan


def _read_only_visit(self: CSTNode, visitor: Any) -> Any:
    if not _is_read_only(type(visitor)):
        return _original_visit(self, visitor)
    _walk(self, visitor, _has_attribute_hooks(visitor))
    return self


def _walk(node: CSTNode, visitor: Any, hooks: bool) -> None:
    """LibCST's visit of `node` by a read-only visitor; `hooks`: make the attribute calls (else no-ops)."""
    plan = _plans_by_class.get(type(node), ...)
    if plan is ...:
        plan = plan_of(type(node))
    if plan is None:
        _original_visit(node, visitor)
        return
    if visitor.on_visit(node):
        for field in plan:
            value = getattr(node, field.name)
            if value is None and field.only_when_present:
                continue
            if hooks:
                visitor.on_visit_attribute(node, field.name)
            if field.is_sequence or value.__class__ is tuple or value.__class__ is list:
                for child in value:
                    _walk(child, visitor, hooks)
            elif value is not None and value is not MaybeSentinel.DEFAULT:
                _walk(value, visitor, hooks)
            if hooks:
                visitor.on_leave_attribute(node, field.name)
    visitor.on_leave(node)


_read_only_types: dict[type, bool] = {}
_hooks_by_type: dict[type, bool] = {}


def _is_read_only(visitor_type: type) -> bool:
    try:
        return _read_only_types[visitor_type]
    except KeyError:
        answer = _read_only_types[visitor_type] = issubclass(visitor_type, CSTVisitor)
        return answer


def _is_attribute_hook(name: str) -> bool:
    """`visit_ClassDef_bases`: node class names hold no underscore, so a second one names a field.

    LibCST's base classes define every such name as a no-op (`CSTTypedBaseFunctions`);
    only one a visitor defines itself counts.
    """
    return name.startswith(("visit_", "leave_")) and "_" in name[6:]


def _has_attribute_hooks(visitor: Any) -> bool:
    """Whether `on_visit_attribute`/`on_leave_attribute` of this visitor can do anything.

    LibCST's own versions only look up `visit_<Node>_<field>` methods (or,
    batched, such entries of the batch's table): with none, the calls, one
    pair per field of every node, are skipped.
    """
    if _BatchedCSTVisitor is not None and type(visitor) is _BatchedCSTVisitor:
        return any(_is_attribute_hook(name) for name in visitor.visitor_methods)
    if any(_is_attribute_hook(name) for name in getattr(visitor, "__dict__", ())):
        return True
    visitor_type = type(visitor)
    if visitor_type not in _hooks_by_type:
        _hooks_by_type[visitor_type] = (
            visitor_type.on_visit_attribute is not CSTVisitor.on_visit_attribute
            or visitor_type.on_leave_attribute is not CSTVisitor.on_leave_attribute
            or any(
                _is_attribute_hook(name) and getattr(visitor_type, name) is not getattr(CSTVisitor, name, None)
                for name in dir(visitor_type)
            )
        )
    return _hooks_by_type[visitor_type]


def _children(self: CSTNode) -> Sequence[CSTNode]:
    plan = _plans_by_class.get(type(self), ...)
    if plan is ...:
        plan = plan_of(type(self))
    if plan is None:
        return _original_children.fget(self)  # type: ignore[attr-defined]
    children: list[CSTNode] = []
    for field in plan:
        value = getattr(self, field.name)
        if value is None:
            continue
        if field.is_sequence or value.__class__ is tuple or value.__class__ is list:
            children.extend(value)
        elif value is not None and value is not MaybeSentinel.DEFAULT:
            children.append(value)
    return children


class NodeParents(Mapping[CSTNode, CSTNode]):
    """What `ParentNodeProvider` maps (each node of a tree to the node whose `children` hold it), from the plans.

    The provider makes a visit with a callback per node; a walk of the
    plans does the same in a fifth of the time, and keys by `id` (a node's
    `__hash__` is a Python function).
    """

    def __init__(self, root: CSTNode):
        #: id(child) -> (child, parent)
        self._parents: dict[int, tuple[CSTNode, CSTNode]] = {}
        pending = [root]
        while pending:
            node = pending.pop()
            for child in _children(node):
                self._parents[id(child)] = (child, node)
                pending.append(child)

    def __getitem__(self, node: CSTNode) -> CSTNode:
        return self._parents[id(node)][1]

    def __contains__(self, node: object) -> bool:
        return id(node) in self._parents

    def __iter__(self) -> Iterator[CSTNode]:
        return (child for child, _ in self._parents.values())

    def __len__(self) -> int:
        return len(self._parents)


def _all_subclasses(cls: type) -> set[type]:
    found = {cls}
    for subclass in cls.__subclasses__():
        found |= _all_subclasses(subclass)
    return found


class _ExactTypeCheck(type):
    """`isinstance` against a class of this metaclass is one set lookup of the instance's type."""

    types: frozenset[type]

    def __instancecheck__(cls, instance: object) -> bool:
        return type(instance) in cls.types


def _exact_check_of(classes: tuple[type, ...]) -> type:
    """A class that `isinstance` finds every instance of `classes` (and of their subclasses) in, and nothing else.

    LibCST's node classes are ABCs: `isinstance(node, (A, B, ...))` makes a
    Python-level `ABCMeta.__instancecheck__` call per class that is not the
    node's own. The scope visitor asks that of every node it leaves, against
    18 classes: a fifth of a scope analysis.
    """
    return _ExactTypeCheck("AnyOf", (), {"types": frozenset().union(*map(_all_subclasses, classes))})


_original_assignment_like = getattr(_scope_provider, "_ASSIGNMENT_LIKE_NODES", None)
_assignment_like = _exact_check_of(_original_assignment_like) if isinstance(_original_assignment_like, tuple) else None


def install() -> None:
    """Make read-only visits and `children` walk the plans, and the scope visitor's type check one lookup (idempotent)."""
    CSTNode.visit = _read_only_visit  # type: ignore[method-assign]
    CSTNode.children = property(_children, doc=_original_children.__doc__)  # type: ignore[assignment]
    if _assignment_like is not None:
        _scope_provider._ASSIGNMENT_LIKE_NODES = _assignment_like


def uninstall() -> None:
    """LibCST's own visit, `children` and type check again (tests compare the two)."""
    CSTNode.visit = _original_visit  # type: ignore[method-assign]
    CSTNode.children = _original_children  # type: ignore[assignment]
    if _assignment_like is not None:
        _scope_provider._ASSIGNMENT_LIKE_NODES = _original_assignment_like
