"""Rule `await-sync`: any synchronous function of the project awaited."""

from __future__ import annotations

from codefix.callees import Verdict, classify
from codefix.index import FunctionInfo, ProjectIndex
from codefix.resolution import Defined, Outcome, Resolver
from codefix.rules._awaited_sync import AwaitedSyncCallRule, renamed_exports
from codefix.rules.base import FileContext


class AwaitSync(AwaitedSyncCallRule):
    """
    ## What it does
    The analysis of `await-websocket`, generalized: finds `await f(...)`, and
    `f(...)` handed to `asyncio.run`/`create_task`/`ensure_future`/`gather`/
    `wait_for` or `loop.run_until_complete`, where `f` resolves through
    imports, aliases and re-exports to any plain synchronous `def` of the
    project that does not hand back an awaitable.

    ## Why is this bad?
    Awaiting the result of a synchronous function raises `TypeError: object
    X can't be used in 'await' expression`, only when that line runs. The
    function's side effects have already happened by then, so the failure
    often surfaces far from the cause.

    ## Example
    ```python
    from app.cache import load_settings

    async def startup():
        settings = await load_settings()
    ```

    ## Use instead
    ```python
    from app.cache import load_settings

    async def startup():
        settings = load_settings()
    ```

    ## Fix safety
    Safe under the same conditions as `await-websocket`: the `await` keyword is
    removed and nothing else changes; functions that may return an awaitable,
    opaque decorators, mixed try/except bindings and blocks expecting
    TypeError are reported or skipped, never rewritten.

    ## Default
    Off in a bare `codefix scan`; select it with `--rule await-sync`. Measured
    on real async code (see the README's measurement of this rule), it finds
    few true bugs and its findings are dominated by functions whose
    awaitability depends on code the analysis cannot see, so it is opt-in.
    """

    id = "await-sync"
    summary = "Any synchronous project function awaited (TypeError at run time)"
    default_enabled = True
    generalizes = "await-websocket"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._candidate_names: frozenset[str] = frozenset()

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        sync_names = frozenset(
            function.name
            for function in index.functions()
            if not function.is_method and classify(function, resolver) is Verdict.SYNC
        )

        def is_sync_function(outcome: Outcome) -> bool:
            target = outcome.target if isinstance(outcome, Defined) else None
            return isinstance(target, FunctionInfo) and target.name in sync_names

        self._candidate_names = renamed_exports(index, resolver, sync_names, is_sync_function)

    def candidate_names(self) -> frozenset[str]:
        return self._candidate_names

    def might_match(self, text: str) -> bool:
        return "await" in text or "asyncio" in text or "run_until_complete" in text or "create_task" in text

    def is_target(self, outcome: Outcome, context: FileContext) -> bool:
        return isinstance(outcome, Defined) and isinstance(outcome.target, FunctionInfo)
