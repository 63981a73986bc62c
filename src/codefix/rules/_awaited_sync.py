"""The analysis shared by `await-websocket` and `await-sync`.

Both rules look at the same sites, `await f(...)` and `f(...)` handed to an
API that needs an awaitable, and differ only in which resolved functions they
care about. Subclasses say that with `is_target`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from codefix.callees import Verdict, classify
from codefix.assigned_aliases import AssignedAliases
from codefix.index import FunctionInfo, ImportRef, ModuleInfo, ProjectIndex, awaited_call_lines
from codefix.lazy_libcst import cst
from codefix.lexical import AWAITABLE_CONSUMERS, ScreenedText, consumer_names
from codefix.resolution import Defined, External, Missing, Outcome, Resolver, Unbound, callee_parts
from codefix.rules.base import FileContext, Report, Rule

#: asyncio entry points that take an awaitable, and which positional
#: arguments must be one ("all" for gather).
AWAITABLE_REQUIRED = {
    "asyncio.run": "first",
    "asyncio.create_task": "first",
    "asyncio.ensure_future": "first",
    "asyncio.wait_for": "first",
    "asyncio.shield": "first",
    "asyncio.gather": "all",
}
#: Methods that need an awaitable on whatever object they are called
#: (`loop.run_until_complete`, `task_group.create_task`).
AWAITABLE_REQUIRED_METHODS = frozenset({"run_until_complete", "create_task"})

_EXPECTING_TYPEERROR = frozenset({"raises", "assertRaises", "assertRaisesRegex"})


@dataclass(frozen=True)
class CalleeJudgement:
    """What a call site's callee turned out to be, for one rule."""

    #: Where the synchronous target is defined ("pkg/ws.py:12"), None when no
    #: binding of the callee is a target of the rule.
    target_location: str | None
    #: The synchronous project function that is a target, when it is one.
    target: FunctionInfo | None
    #: True when every binding of the callee is synchronous.
    all_bindings_sync: bool
    outcomes: tuple[Outcome, ...]


def _names_type_error(expression: cst.BaseExpression) -> bool:
    if isinstance(expression, (cst.Tuple, cst.List)):
        return any(_names_type_error(element.value) for element in expression.elements)
    parts = callee_parts(expression)
    return bool(parts) and parts[-1] == "TypeError"


def _expects_type_error(with_item: cst.WithItem) -> bool:
    call = with_item.item
    if not isinstance(call, cst.Call) or not call.args:
        return False
    parts = callee_parts(call.func)
    if not parts or parts[-1] not in _EXPECTING_TYPEERROR:
        return False
    # `raises(TypeError)`, or spelled with the keyword both pytest and unittest accept.
    expected = [
        arg
        for position, arg in enumerate(call.args)
        if (position == 0 and arg.keyword is None and not arg.star)
        or (arg.keyword is not None and arg.keyword.value == "expected_exception")
    ]
    return any(_names_type_error(arg.value) for arg in expected)


def _handles_type_error(try_node: cst.Try | cst.TryStar) -> bool:
    return any(
        handler.type is not None and _names_type_error(handler.type) for handler in try_node.handlers
    )


def _xfails_with_type_error(decorator: cst.BaseExpression) -> bool:
    if not isinstance(decorator, cst.Call):
        return False
    parts = callee_parts(decorator.func)
    if not parts or parts[-1] != "xfail":
        return False
    return any(
        arg.keyword is not None and arg.keyword.value == "raises" and _names_type_error(arg.value)
        for arg in decorator.args
    )


def is_deliberate_failure(context: FileContext, node: cst.CSTNode) -> bool:
    """True inside `pytest.raises(TypeError)`, `assertRaises(TypeError)`, `try: ... except TypeError`,
    or a test marked `@pytest.mark.xfail(raises=TypeError)`.

    Such code proves the bug exists on purpose; rewriting it breaks the test.
    Only the nearest enclosing function is searched.
    """
    child = node
    for ancestor in context.ancestors(node):
        if isinstance(ancestor, cst.FunctionDef):
            return any(_xfails_with_type_error(decorator.decorator) for decorator in ancestor.decorators)
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef, cst.Module)):
            return False
        if isinstance(ancestor, cst.With) and child is ancestor.body:
            if any(_expects_type_error(item) for item in ancestor.items):
                return True
        if isinstance(ancestor, (cst.Try, cst.TryStar)) and child is ancestor.body:
            if _handles_type_error(ancestor):
                return True
        child = ancestor
    return False


def comment_after_await(node: cst.Await) -> bool:
    """True for `(await  # why\n f())`: dropping the keyword must not drop the comment."""
    whitespace = node.whitespace_after_await
    return isinstance(whitespace, cst.ParenthesizedWhitespace) and (
        whitespace.first_line.comment is not None or any(line.comment for line in whitespace.empty_lines)
    )


def _join_whitespace(
    before: cst.BaseParenthesizableWhitespace, after: cst.ParenthesizedWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after `(` followed by the comment-bearing whitespace after `await`."""
    if not isinstance(before, cst.ParenthesizedWhitespace):
        return after
    first = after.first_line
    # The line `await  # why` keeps its comment at the await's indentation;
    # a bare `await` line disappears.
    carried = (
        [cst.EmptyLine(indent=before.indent, whitespace=before.last_line, comment=first.comment, newline=first.newline)]
        if first.comment is not None
        else []
    )
    return before.with_changes(
        empty_lines=[*before.empty_lines, *carried, *after.empty_lines],
        indent=after.indent,
        last_line=after.last_line,
    )


def strip_await(updated: cst.CSTNode) -> cst.CSTNode:
    """`await f(x)` becomes `f(x)`; parentheses around the await stay where they were.

    A comment between `await` and the call moves behind the await's own
    opening parenthesis (the rule does not offer this fix when there is none).
    """
    assert isinstance(updated, cst.Await)
    inner = updated.expression
    lpar = list(updated.lpar)
    if comment_after_await(updated) and lpar:
        whitespace = updated.whitespace_after_await
        assert isinstance(whitespace, cst.ParenthesizedWhitespace)
        lpar[-1] = lpar[-1].with_changes(whitespace_after=_join_whitespace(lpar[-1].whitespace_after, whitespace))
    return inner.with_changes(
        lpar=[*lpar, *inner.lpar],
        rpar=[*inner.rpar, *updated.rpar],
    )


def imported_inside_a_function(module: ModuleInfo, name: str) -> bool:
    """`from pkg import f as g` in a function body: the index cannot tell what `g` is, so parse."""
    return name in module.imported_names and name not in module.symbols


def _only_imported_from_outside(module: ModuleInfo, name: str, index: ProjectIndex) -> bool:
    symbols = module.symbols.get(name)
    return bool(symbols) and all(
        isinstance(symbol, ImportRef) and not index.has_package_prefix(symbol.module) for symbol in symbols
    )


class AwaitedSyncCallRule(Rule):
    """Base of rules flagging synchronous functions used where an awaitable is needed."""

    def is_target(self, outcome: Outcome, context: FileContext) -> bool:
        """Whether a synchronous binding is one this rule reports."""
        raise NotImplementedError

    def candidate_names(self) -> frozenset[str]:
        """Every name a call site can spell a target with (definitions and re-export aliases)."""
        raise NotImplementedError

    def has_candidates(self, module: ModuleInfo, index: ProjectIndex) -> bool:
        """Whether some awaited callee can name a target: `f`, or `mod.f` on an imported name.

        `self.f()` and `conn.f()` are methods of objects, never targets, and
        they are most awaited calls; names that the module binds only by
        importing them from outside the project (`asyncio.sleep`) cannot be
        targets either. Skipping such modules keeps most files unparsed.
        """
        return any(self.may_name_a_target(callee, module, index) for callee in module.awaited_callees)

    def concern_lines(self, screened: ScreenedText) -> set[int] | None:
        """Awaits (or calls handed to `asyncio.run` & co.) whose callee's last name can be a target's.

        A target of a module no one imports is reached by a name that module
        binds, any other by a name `candidate_names` holds; a callee the
        text does not show plainly may be anything.
        """
        names = self.candidate_names()
        wanted = {last for last in screened.awaited_last_names if last is None or last in names or screened.binds(last)}
        wanted = {last for last in wanted if last is None or not self.reaches_no_target(screened, last)}
        if not wanted:  # most files: no offset, no line is needed
            return set()
        return screened.lines_of(offset for offset, last in screened.awaited_callees if last in wanted)

    def reaches_no_target(self, screened: ScreenedText, name: str) -> bool:
        """Whether the text shows that every awaited `name` resolves to project definitions none of which is a target.

        Such an await is no concern. False here: each rule says when it can tell.
        """
        return False

    def concerns_covered_by(self, other: Rule) -> bool:
        """`concern_lines` only grows with `candidate_names`: a rule of this kind with more of them covers this one.

        await-websocket's default name is one of the project's synchronous
        functions, so await-sync covers it; a configured name defined
        nowhere in the project, or outside it, is not await-sync's, and
        keeps await-websocket's own look. A name `reaches_no_target` drops
        resolves only to project definitions that are no synchronous
        function: nothing either rule reports (await-websocket also reports
        names resolving outside the project, or to nothing).
        """
        return isinstance(other, AwaitedSyncCallRule) and self.candidate_names() <= other.candidate_names()

    def may_name_a_target(self, callee: str, module: ModuleInfo, index: ProjectIndex) -> bool:
        """Whether an awaited callee, "f" or "head.last", can be a target (see `has_candidates`)."""
        head, _, last = callee.rpartition(".")
        if not head and imported_inside_a_function(module, last):
            return True
        if last not in self.candidate_names() or (head and head not in module.imported_names):
            return False
        return not _only_imported_from_outside(module, head or last, index)

    def site_lines(
        self, tree: ast.Module, module: ModuleInfo | None, index: ProjectIndex, text: str
    ) -> set[int] | None:
        """Lines of the awaits, and of the calls handed to `asyncio.run` & co., that may name a target.

        Read from the text (`awaited_call_lines`): an `ast` walk of every
        candidate module was most of a cold scan's analysis.
        """
        if module is None:
            return None
        aliases = AssignedAliases(text)
        return {
            line
            for line, callee in awaited_call_lines(text)
            if callee is None or any(self.may_name_a_target(key, module, index) for key in aliases.callees([callee]))
        }

    def judge(self, context: FileContext, call: cst.Call) -> CalleeJudgement | None:
        outcomes = context.resolve_callee(call.func)
        if not outcomes:
            return None
        location: str | None = None
        target: FunctionInfo | None = None
        all_sync = True
        for outcome in outcomes:
            where = self.sync_location(outcome, context)
            if where is None:
                all_sync = False
            elif location is None and self.is_target(outcome, context):
                location = where
                target = outcome.target if isinstance(outcome, Defined) else None
        return CalleeJudgement(location, target, all_sync, outcomes)

    def sync_location(self, outcome: Outcome, context: FileContext) -> str | None:
        """Where a synchronous binding is defined; None when it is not known to be synchronous."""
        function = outcome.target if isinstance(outcome, Defined) else None
        if isinstance(function, FunctionInfo) and classify(function, context.resolver) is Verdict.SYNC:
            return f"{function.path}:{function.line}"
        return None

    def check(self, context: FileContext) -> Iterator[Report]:
        from codefix.rules._await_sites import AwaitSites  # defining it imports LibCST (lazy_libcst.py)

        collector = context.collected(AwaitSites)  # shared with the sibling rule
        for node in collector.awaits:
            yield from self.check_await(context, node)
        for call in [*collector.calls, *_calls_of_renamed_consumers(context)]:
            yield from self.check_awaitable_required(context, call)

    def check_await(self, context: FileContext, node: cst.Await) -> Iterator[Report]:
        call = node.expression
        assert isinstance(call, cst.Call)
        judgement = self.judge(context, call)
        if judgement is None:
            return
        if judgement.target_location is None:
            yield from self.unresolved_reports(context, node, call, judgement.outcomes)
            return
        name = context.module.code_for_node(call.func)
        where = judgement.target_location
        if not judgement.all_bindings_sync:
            yield Report(node, f"`{name}` is synchronous in some of its bindings ({where}) but not all; awaiting it fails on that path (not fixed: check which binding applies)")
        elif is_deliberate_failure(context, node):
            yield Report(node, f"`{name}` is synchronous ({where}); this await is inside a block that expects the TypeError, so it is left as a deliberate test")
        elif comment_after_await(node) and not node.lpar:
            yield Report(node, f"`{name}` is synchronous ({where}); awaiting its result raises TypeError (not fixed: a comment follows `await` and would be lost)")
        else:
            yield self.fixable_report(context, node, call, judgement)

    def fixable_report(self, context: FileContext, node: cst.Await, call: cst.Call, judgement: CalleeJudgement) -> Report:
        name = context.module.code_for_node(call.func)
        where = judgement.target_location
        return Report(
            node,
            f"`{name}` is synchronous ({where}); awaiting its result raises TypeError",
            fix=strip_await,
        )

    def unresolved_reports(
        self, context: FileContext, node: cst.Await, call: cst.Call, outcomes: Sequence[Outcome]
    ) -> Iterator[Report]:
        """Reports for callees that resolve to nothing judgeable; none by default."""
        return iter(())

    def check_awaitable_required(self, context: FileContext, call: cst.Call) -> Iterator[Report]:
        parts = callee_parts(call.func) or []
        requirement = self.awaitable_requirement(context, call, parts)
        if requirement is None:
            return
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        candidates = positional if requirement == "all" else positional[:1]
        api = context.module.code_for_node(call.func)
        for arg in candidates:
            inner = arg.value
            if not isinstance(inner, cst.Call):
                continue
            judgement = self.judge(context, inner)
            if judgement is None or judgement.target_location is None:
                continue
            name = context.module.code_for_node(inner.func)
            where = judgement.target_location
            yield Report(inner, f"`{api}` needs an awaitable, but `{name}` is synchronous ({where}) and returns its result directly (not fixed: the call must be restructured)")

    def awaitable_requirement(self, context: FileContext, call: cst.Call, parts: list[str]) -> str | None:
        """Which arguments of `call` must be awaitables: "first", "all", or None."""
        is_method_call = len(parts) > 1
        if is_method_call and parts[-1] == "run_until_complete":
            return "first"
        outcomes = context.resolve_callee(call.func) or ()
        for outcome in outcomes:
            if isinstance(outcome, External) and outcome.qualified_name in AWAITABLE_REQUIRED:
                return AWAITABLE_REQUIRED[outcome.qualified_name]
        if is_method_call and parts[-1] == "create_task":
            # loop.create_task / task_group.create_task: a method of an object,
            # unless the dotted name leads to some module's own function.
            if not any(isinstance(outcome, (External, Defined)) for outcome in outcomes):
                return "first"
        return None


def _calls_of_renamed_consumers(context: FileContext) -> list[cst.Call]:
    """Calls of a name the file imports an API taking awaitables as (`from asyncio import run as start`).

    `AwaitSites` collects calls by the APIs' own names; a file binding one
    to another name is rare, and only then is every call looked at.
    """
    if context.text is None:
        return []
    renamed = consumer_names(context.text).difference(AWAITABLE_CONSUMERS)
    if not renamed:
        return []
    from codefix.rules._call_inventory import CallInventory  # defining it imports LibCST (lazy_libcst.py)

    return [call for call in context.collected(CallInventory).calls if isinstance(call.func, cst.Name) and call.func.value in renamed]


def renamed_exports(
    index: ProjectIndex, resolver: Resolver, names: frozenset[str], is_target: Callable[[Outcome], bool]
) -> frozenset[str]:
    """`names` plus every name a target is re-exported under (`from .m import f as g`).

    Call sites importing `g` never spell `f`, so prefilters must know `g`;
    followed to a fixed point, since aliases of aliases happen.
    """
    known = set(names)
    while True:
        found = set()
        for module, name, referred in index.renaming_bindings():
            if name in known or referred.isdisjoint(known):
                continue
            if any(is_target(o) for o in resolver.resolve_in_module(module, name)):
                found.add(name)
        if not found:
            return frozenset(known)
        known |= found


def unbound_or_external_reports(
    context: FileContext, node: cst.Await, call: cst.Call, outcomes: Sequence[Outcome]
) -> Iterator[Report]:
    """Reports for a configured name that resolves to nothing in the project."""
    name = context.module.code_for_node(call.func)
    for outcome in outcomes:
        if isinstance(outcome, Unbound):
            yield Report(node, f"`{name}` is awaited but never bound in this scope (NameError at run time; not fixed)")
            return
        if isinstance(outcome, Missing):
            yield Report(node, f"`{name}` is imported from `{outcome.qualified_name.rpartition('.')[0]}`, which does not define it (ImportError at run time; not fixed)")
            return
        if isinstance(outcome, External):
            yield Report(node, f"`{name}` resolves outside the project (`{outcome.qualified_name}`); add that dotted path to `functions` if it is synchronous (not fixed)")
            return
