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

from codefix.index import ClassInfo, FunctionInfo, ImportRef
from codefix.resolution import Defined, External, ModuleRef, Outcome, Resolver

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


def qualify(function: FunctionInfo, dotted: str, resolver: Resolver, in_body: bool = True) -> str:
    """Spell a dotted name as written in `function`'s module by its import origin.

    `lru_cache` imported from functools becomes `functools.lru_cache`;
    `aio.create_task` after `import asyncio as aio` becomes
    `asyncio.create_task`. Names that are not imported come back unchanged.
    `in_body`: the name is used inside the function, where its own imports
    shadow the module's (decorators are evaluated outside it).
    """
    head, _, rest = dotted.partition(".")
    module = resolver.index.module_at(function.path)
    symbols = module.symbols.get(head, []) if module else []
    local = [ref for name, ref in function.local_imports if name == head] if in_body else []
    for symbol in local or symbols:
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
    if any(qualify(function, d, resolver, in_body=False) not in TRANSPARENT_DECORATORS for d in function.decorators):
        return Verdict.UNKNOWN
    if _AWAITABLE_ANNOTATION.search(function.return_annotation):
        return Verdict.AWAITABLE
    if function.returns_parameter:
        return Verdict.UNKNOWN
    verdicts = {_returned_call_verdict(function, call, resolver, depth) for call in function.returned_calls}
    if Verdict.AWAITABLE in verdicts:
        return Verdict.AWAITABLE
    return Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.SYNC


def _import_outcomes(ref: ImportRef, resolver: Resolver) -> tuple[Outcome, ...]:
    if ref.name is not None:
        return resolver.resolve_attribute(ref.module, ref.name)
    return (ModuleRef(ref.module),) if resolver.index.has_module(ref.module) else (External(ref.module),)


def _outcome_verdict(outcome: Outcome, resolver: Resolver, depth: int) -> Verdict:
    """What calling one binding of a returned callee gives back."""
    if isinstance(outcome, External):
        if outcome.qualified_name in AWAITABLE_FACTORIES:
            return Verdict.AWAITABLE
        # Builtins never return awaitables; other libraries may (httpx's
        # `AsyncClient().get`, a driver's `connect()`), so they stay unknown.
        return Verdict.SYNC if outcome.qualified_name.startswith("builtins.") else Verdict.UNKNOWN
    if isinstance(outcome, Defined) and isinstance(outcome.target, FunctionInfo):
        return classify(outcome.target, resolver, depth + 1)
    if isinstance(outcome, Defined) and isinstance(outcome.target, ClassInfo):
        return class_verdict(outcome.target, resolver, depth + 1)
    return Verdict.UNKNOWN


#: Bases that add no `__await__`: an instance of a class built only on these
#: (and on project classes without `__await__`) is not awaitable.
_INERT_BASES = frozenset({"builtins.object", "builtins.Exception", "builtins.dict", "builtins.list"})
_AWAITABLE_BASES = frozenset({"asyncio.Future", "asyncio.Task", "asyncio.futures.Future", "asyncio.tasks.Task"})


def class_verdict(cls: ClassInfo, resolver: Resolver, depth: int = 0) -> Verdict:
    """Whether instances of a project class are awaitable, following its bases."""
    if "__await__" in cls.methods:
        return Verdict.AWAITABLE
    module = resolver.index.module_at(cls.path)
    if module is None or depth >= _MAX_DEPTH:
        return Verdict.UNKNOWN
    verdicts = set()
    for base in cls.bases:
        head, *rest = base.split(".")
        for outcome in resolver.follow_attributes(resolver.resolve_in_module(module, head), rest):
            if isinstance(outcome, Defined) and isinstance(outcome.target, ClassInfo):
                verdicts.add(class_verdict(outcome.target, resolver, depth + 1))
            elif isinstance(outcome, External) and outcome.qualified_name in _AWAITABLE_BASES:
                verdicts.add(Verdict.AWAITABLE)
            elif isinstance(outcome, External) and (
                outcome.qualified_name in _INERT_BASES or outcome.qualified_name.startswith("typing.")
            ):
                verdicts.add(Verdict.SYNC)
            else:
                verdicts.add(Verdict.UNKNOWN)
    if Verdict.AWAITABLE in verdicts:
        return Verdict.AWAITABLE
    return Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.SYNC


def _returned_call_verdict(function: FunctionInfo, call: str, resolver: Resolver, depth: int) -> Verdict:
    """Whether `return <call>` in a sync def hands back an awaitable.

    A method of some object (`return self.queue.get()`) may well return a
    coroutine, so anything the analysis cannot follow is UNKNOWN, and only
    a def whose every returned call is known not to be awaitable is SYNC.
    """
    head, *rest = call.split(".")
    if rest and rest[-1] in AWAITABLE_METHODS:
        return Verdict.AWAITABLE
    if qualify(function, call, resolver) in AWAITABLE_FACTORIES:
        return Verdict.AWAITABLE
    module = resolver.index.module_at(function.path)
    if module is None or depth >= _MAX_DEPTH:
        return Verdict.UNKNOWN
    nested = [n for n in module.functions_by_line.values() if n.name == head and n.line > function.line]
    if not rest and nested and head not in module.symbols:
        # A function nested in this one (`async def inner(): ...; return inner()`).
        return Verdict.AWAITABLE if any(n.is_async for n in nested) else Verdict.UNKNOWN
    local = [ref for name, ref in function.local_imports if name == head]
    if local:
        # `from app.impl import connect` inside the def shadows the module's
        # bindings; with several (try/except ImportError), any may apply.
        bound = tuple(outcome for ref in local for outcome in _import_outcomes(ref, resolver))
    else:
        bound = resolver.resolve_in_module(module, head)
    outcomes = resolver.follow_attributes(bound, rest)
    verdicts = {_outcome_verdict(outcome, resolver, depth) for outcome in outcomes}
    if Verdict.AWAITABLE in verdicts:
        return Verdict.AWAITABLE
    if not verdicts or Verdict.UNKNOWN in verdicts:
        return Verdict.UNKNOWN
    return Verdict.SYNC
