"""Judging a resolved function: does calling it hand back something awaitable?

A plain `def` can legitimately be awaited when it returns an awaitable: it is
annotated so, it returns a call to an `async def`, or it returns
`asyncio.create_task(...)` and friends. A decorator the analysis cannot see
through may turn it into anything, so its verdict is UNKNOWN. Only a SYNC
verdict lets a rule say that awaiting the result raises TypeError.
"""

from __future__ import annotations

import enum
import re

from codefix.index import FunctionInfo, ImportRef
from codefix.resolution import Defined, External, Resolver

_AWAITABLE_ANNOTATION = re.compile(r"\b(Awaitable|Coroutine|Future|Task)\b")

#: Decorators that return the function they wrap (or a cache around it), so
#: they cannot make a synchronous function awaitable.
TRANSPARENT_DECORATORS = frozenset(
    {
        "functools.cache",
        "functools.lru_cache",
        "functools.wraps",
        "staticmethod",
        "classmethod",
        "typing.overload",
        "typing.final",
        "typing_extensions.overload",
        "typing_extensions.final",
        "abc.abstractmethod",
    }
)

#: Calls whose result is awaitable, so `return <call>` makes a def awaitable.
AWAITABLE_FACTORIES = frozenset(
    {
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.gather",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.shield",
        "asyncio.sleep",
        "asyncio.wrap_future",
        "asyncio.to_thread",
        "asyncio.open_connection",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)

#: Methods that return awaitables whatever object they are called on (event
#: loops, task groups, executors wrapped by a loop).
AWAITABLE_METHODS = frozenset({"run_in_executor", "create_task", "create_future"})

_MAX_DEPTH = 6


class Verdict(enum.Enum):
    SYNC = "sync"
    AWAITABLE = "awaitable"
    UNKNOWN = "unknown"


def qualify(function: FunctionInfo, dotted: str, resolver: Resolver) -> str:
    """Spell a dotted name as written in `function`'s module by its import origin.

    `lru_cache` imported from functools becomes `functools.lru_cache`;
    `aio.create_task` after `import asyncio as aio` becomes
    `asyncio.create_task`. Names that are not imported come back unchanged.
    """
    head, _, rest = dotted.partition(".")
    module = resolver.index.module_at(function.path)
    symbols = module.symbols.get(head, []) if module else []
    for symbol in symbols:
        if isinstance(symbol, ImportRef):
            origin = symbol.module if symbol.name is None else f"{symbol.module}.{symbol.name}"
            return f"{origin}.{rest}" if rest else origin
    return dotted


def classify(function: FunctionInfo, resolver: Resolver, depth: int = 0) -> Verdict:
    """What awaiting a call of `function` does: fail (SYNC), work, or cannot be known."""
    if function.is_async:
        return Verdict.UNKNOWN if function.is_generator else Verdict.AWAITABLE
    if function.is_method:
        return Verdict.UNKNOWN
    if any(qualify(function, d, resolver) not in TRANSPARENT_DECORATORS for d in function.decorators):
        return Verdict.UNKNOWN
    if _AWAITABLE_ANNOTATION.search(function.return_annotation):
        return Verdict.AWAITABLE
    if any(_returns_awaitable(function, call, resolver, depth) for call in function.returned_calls):
        return Verdict.AWAITABLE
    return Verdict.SYNC


def _returns_awaitable(function: FunctionInfo, call: str, resolver: Resolver, depth: int) -> bool:
    if call.rpartition(".")[2] in AWAITABLE_METHODS and "." in call:
        return True
    qualified = qualify(function, call, resolver)
    if qualified in AWAITABLE_FACTORIES:
        return True
    if depth >= _MAX_DEPTH:
        return False
    module = resolver.index.module_at(function.path)
    if module is None:
        return False
    head, *rest = call.split(".")
    outcomes = resolver.follow_attributes(resolver.resolve_in_module(module, head), rest)
    for outcome in outcomes:
        if isinstance(outcome, External) and outcome.qualified_name in AWAITABLE_FACTORIES:
            return True
        if isinstance(outcome, Defined) and isinstance(outcome.target, FunctionInfo):
            if classify(outcome.target, resolver, depth + 1) is Verdict.AWAITABLE:
                return True
    # A call to a function nested in this one (a local `async def`) is also
    # an awaitable; the index knows nested functions of the module by name.
    if not rest and module is not None:
        for nested in module.functions_by_line.values():
            if nested.name == head and nested.line > function.line and nested.is_async:
                return True
    return False
