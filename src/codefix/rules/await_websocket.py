"""Rule `await-websocket`: a synchronous websocket-manager factory awaited."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from codefix.callees import Verdict, classify
from codefix.index import FunctionInfo, ImportRef, ModuleInfo, ProjectIndex
from codefix.lazy_libcst import cst
from codefix.resolution import Defined, External, Missing, Outcome, Resolver, callee_parts
from codefix.rules._awaited_sync import (
    AwaitedSyncCallRule,
    CalleeJudgement,
    imported_inside_a_function,
    renamed_exports,
    unbound_or_external_reports,
)
from codefix.rules.base import ConfigurationError, Example, FileContext, Report


class AwaitWebsocket(AwaitedSyncCallRule):
    """
    ## What it does
    Finds `await get_websocket_manager(...)` (or any function listed in
    `functions`) where the name resolves, through imports, aliases and
    re-exports, to a plain synchronous `def` of the project. The same function
    handed to `asyncio.run`, `asyncio.create_task`, `asyncio.ensure_future`,
    `asyncio.gather`, `asyncio.wait_for` or `loop.run_until_complete` is
    reported too. A name that is never bound, or that resolves outside the
    project, is reported with its own message.

    ## Why is this bad?
    Awaiting the return value of a synchronous function raises
    `TypeError: object WebSocketManager can't be used in 'await' expression`
    at run time, only on the path that reaches it. A `sed` one-liner cannot
    tell this function from an async method or a local test double of the same
    name; this rule follows the name to its definition.

    ## Example
    ```python
    from app.ws import get_websocket_manager

    async def handler(ctx):
        manager = await get_websocket_manager(ctx)
    ```

    ## Use instead
    ```python
    from app.ws import get_websocket_manager

    async def handler(ctx):
        manager = get_websocket_manager(ctx)
    ```

    ## Fix safety
    Safe: the fix removes the `await` keyword and keeps every other byte. It is
    not applied when the function might hand back an awaitable (a return
    annotation of `Awaitable`/`Coroutine`/`Future`/`Task`, a returned call of
    an `async def` or `asyncio.create_task`, a decorator codefix cannot see
    through), when only some bindings of the name are synchronous (try/except
    import fallbacks), or inside `pytest.raises(TypeError)`,
    `assertRaises(TypeError)` or `try/except TypeError`, where the failure is
    tested on purpose. Calls handed to asyncio APIs are reported, not
    rewritten. With `replacement = "get_websocket_manager_async"` the fix calls
    that async variant instead, adding its import when needed.

    ## Configuration
    `[tool.codefix.await-websocket]`: `functions` (names or dotted paths,
    default `["get_websocket_manager"]`), `replacement` (an async variant to
    call instead of dropping `await`).
    """

    id = "await-websocket"
    summary = "Synchronous websocket-manager factory awaited (TypeError at run time)"
    default_enabled = True
    examples = (
        Example(
            "def get_websocket_manager(ctx=None):\n    return object()\n\n"
            "async def handler(ctx):\n    m = await get_websocket_manager(\n        ctx,  # keep me\n    )\n",
            1,
            "def get_websocket_manager(ctx=None):\n    return object()\n\n"
            "async def handler(ctx):\n    m = get_websocket_manager(\n        ctx,  # keep me\n    )\n",
        ),
        Example("async def get_websocket_manager():\n    return 1\n\nasync def handler():\n    await get_websocket_manager()\n"),
        Example("async def handler(self):\n    await self.get_websocket_manager()\n"),
        Example("async def handler():\n    await get_websocket_manager()\n", 1),
        Example(
            "import pytest\n\ndef get_websocket_manager():\n    return 1\n\n"
            "async def test_fails():\n    with pytest.raises(TypeError):\n        await get_websocket_manager()\n",
            1,
        ),
    )
    options: Mapping[str, Any] = {"functions": ["get_websocket_manager"], "replacement": None}

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
        settings = super().validate_settings(settings, where)
        functions = settings.get("functions", cls.options["functions"])
        if not isinstance(functions, list) or not all(isinstance(f, str) and f for f in functions):
            raise ConfigurationError(f"{where}: {cls.id}.functions must be a list of names or dotted paths")
        replacement = settings.get("replacement")
        if replacement is not None and (not isinstance(replacement, str) or not replacement):
            raise ConfigurationError(f"{where}: {cls.id}.replacement must be a function name or dotted path")
        return settings

    def __init__(self, settings: Mapping[str, Any] | None = None, flags: frozenset[str] = frozenset()):
        super().__init__(settings, flags)
        functions: Sequence[str] = self.settings["functions"]
        self.simple_names = frozenset(f for f in functions if "." not in f)
        self.dotted_names = frozenset(f for f in functions if "." in f)
        self.trigger_words = set(self.simple_names) | {f.rpartition(".")[2] for f in self.dotted_names}
        self.dotted_targets: set[tuple[str, int]] = set()

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        for dotted in self.dotted_names:
            for outcome in resolver.resolve_dotted(dotted):
                if isinstance(outcome, Defined):
                    self.dotted_targets.add((outcome.target.path, outcome.target.line))
        self.trigger_words |= renamed_exports(
            index, resolver, frozenset(self.trigger_words), self._is_target_outcome
        )

    def candidate_names(self) -> frozenset[str]:
        return frozenset(self.trigger_words)

    def looked_up_names(self) -> frozenset[str]:
        """The replacement's name: a fix must not bind it where the file already does."""
        replacement = self.settings.get("replacement")
        return frozenset({replacement.rpartition(".")[2]}) if replacement else frozenset()

    def may_name_a_target(self, callee: str, module: ModuleInfo, index: ProjectIndex) -> bool:
        """The generic test without its exclusion of names imported from outside the project.

        This rule reports those too: a configured dotted path
        (`wsvendor.client.connect_sync`) and a configured name bound to a
        third-party function ("resolves outside the project").
        """
        head, _, last = callee.rpartition(".")
        if not head and imported_inside_a_function(module, last):
            return True
        if not head and any(
            isinstance(symbol, ImportRef) and symbol.name in self.trigger_words for symbol in module.symbols.get(last, ())
        ):
            return True  # a target imported under another name, even from a module that lacks it
        return last in self.trigger_words and (not head or head in module.imported_names)

    def might_match(self, text: str) -> bool:
        return any(word in text for word in self.trigger_words)

    def _is_target_outcome(self, outcome: Outcome) -> bool:
        if isinstance(outcome, External):
            return outcome.qualified_name in self.dotted_names
        if not isinstance(outcome, Defined) or not isinstance(outcome.target, FunctionInfo):
            return False
        function = outcome.target
        return function.name in self.simple_names or (function.path, function.line) in self.dotted_targets

    def is_target(self, outcome: Outcome, context: FileContext) -> bool:
        return self._is_target_outcome(outcome)

    def sync_location(self, outcome: Outcome, context: FileContext) -> str | None:
        if isinstance(outcome, External) and outcome.qualified_name in self.dotted_names:
            return f"configured as synchronous: {outcome.qualified_name}"
        return super().sync_location(outcome, context)

    def unresolved_reports(
        self, context: FileContext, node: cst.Await, call: cst.Call, outcomes: Sequence[Outcome]
    ) -> Iterator[Report]:
        parts = callee_parts(call.func) or []
        if parts and parts[-1] in self.simple_names and len(parts) == 1:
            yield from unbound_or_external_reports(context, node, call, outcomes)
            return
        # A dead import of a configured name under another name
        # (`from .gone import get_websocket_manager as gwm`) is reported too.
        missing = [
            o for o in outcomes if isinstance(o, Missing) and o.qualified_name.rpartition(".")[2] in self.simple_names
        ]
        if missing:
            yield from unbound_or_external_reports(context, node, call, missing[:1])

    def fixable_report(
        self, context: FileContext, node: cst.Await, call: cst.Call, judgement: CalleeJudgement
    ) -> Report:
        replacement = self.settings.get("replacement")
        if not replacement:
            return super().fixable_report(context, node, call, judgement)
        name = context.module.code_for_node(call.func)
        message = f"`{name}` is synchronous ({judgement.target_location}); awaiting its result raises TypeError"
        plan = self._plan_replacement(context, call, judgement.target, replacement)
        if isinstance(plan, str):
            return Report(node, f"{message} (not fixed: {plan})")
        new_func, needed_import = plan

        def call_replacement(updated: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(updated, cst.Await) and isinstance(updated.expression, cst.Call)
            return updated.with_changes(expression=updated.expression.with_changes(func=new_func))

        module_fix = None
        if needed_import is not None:
            source, imported = needed_import

            def module_fix(module: cst.Module) -> cst.Module:
                # Imported here: libcst.codemod pulls in libcst.matchers, ~0.4 s
                # that every run would pay for a fix few runs make.
                from libcst.codemod import CodemodContext
                from libcst.codemod.visitors import AddImportsVisitor

                codemod_context = CodemodContext()
                AddImportsVisitor.add_needed_import(codemod_context, source, imported)
                return AddImportsVisitor(codemod_context).transform_module(module)

        return Report(node, f"{message}; call `{replacement}` instead", fix=call_replacement, module_fix=module_fix)

    def _plan_replacement(
        self, context: FileContext, call: cst.Call, target: FunctionInfo | None, replacement: str
    ) -> tuple[cst.BaseExpression, tuple[str, str] | None] | str:
        """The new callee and the import it needs, or the reason it cannot be done."""
        source, _, new_name = replacement.rpartition(".")
        resolver = context.resolver
        func = call.func
        if isinstance(func, cst.Attribute):
            base = context.resolve_callee(func.value) or ()
            if not _is_async_function(resolver.follow_attributes(base, [new_name]), resolver):
                return f"`{new_name}` is not an async function next to `{context.module.code_for_node(func)}`"
            return func.with_changes(attr=cst.Name(new_name)), None
        if not source:
            if target is None:
                return "the replacement's module is unknown; give it as a dotted path"
            source = target.module
        if not _is_async_function(resolver.resolve_attribute(source, new_name), resolver):
            return f"`{source}.{new_name}` is not an async function of the project"
        scope = context.scopes.get(func)
        if scope is not None and scope[new_name]:
            existing = context.resolve_name(new_name, scope)
            if not _is_async_function(existing, resolver):
                return f"`{new_name}` is already bound to something else in this file"
            return cst.Name(new_name), None
        return cst.Name(new_name), (source, new_name)


def _is_async_function(outcomes: Sequence[Outcome], resolver: Resolver) -> bool:
    return any(
        isinstance(o, Defined)
        and isinstance(o.target, FunctionInfo)
        and classify(o.target, resolver) is Verdict.AWAITABLE
        for o in outcomes
    )
