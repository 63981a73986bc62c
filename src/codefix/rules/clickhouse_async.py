"""Rule `clickhouse-async`: ClickHouse clients used outside their async context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from codefix.index import ClassInfo, FunctionInfo, ProjectIndex
from codefix.resolution import Defined, External, Resolver
from codefix.rules._async_context_core import (
    AsyncContextRule,
    ClassShape,
    is_async_context_factory,
    validate_name_list,
)


class ClickhouseAsync(AsyncContextRule):
    """
    ## What it does
    Finds ClickHouse client factories used as if they returned the client.
    The factories are the functions the project decorates with
    `@asynccontextmanager` (under any import alias) whose name contains
    `clickhouse`, plus those listed in `factories`. Call sites are followed
    through imports, aliases and re-exports, so a same-named function of
    another library (`from clickhouse_connect import get_client as
    get_clickhouse_client`) or a plain synchronous wrapper is never a target.
    Reported, each with its own message:

    1. the factory awaited: `client = await get_clickhouse_client()`,
       `return await get_clickhouse_client()`;
    2. the factory entered with a plain `with`;
    3. its result bound to a name or attribute (`cm = factory()`,
       `self._client = factory()`) and then used as a client (`cm.execute`,
       `self._client.fetch` from another method, `await cm`), or never
       entered at all; `cm = factory()` later entered by `async with cm as
       client:`, and code guarded by `hasattr(cm, "__aenter__")`, are correct;
    4. a coroutine method of the entered client (`async_methods`) called
       without `await` inside an `async def`, as a statement or assigned;
    5. the factory called inside a plain `def`, where no async context exists
       (`return factory()`, which hands the context manager to the caller, is
       fine).

    ## Why is this bad?
    An `@asynccontextmanager` function returns an `_AsyncGeneratorContextManager`,
    not a client. Awaiting it raises `TypeError: object
    _AsyncGeneratorContextManager can't be used in 'await' expression`; a
    plain `with` raises `TypeError` too; `cm.execute(q)` raises
    `AttributeError`; and `client.execute(q)` without `await` creates a
    coroutine that never runs, so the query silently does not happen. Each
    fails only on the path that reaches it, typically in one test category
    at a time.

    ## Example
    ```python
    from analytics.db import get_clickhouse_client

    async def daily_totals(day):
        client = await get_clickhouse_client()
        rows = await client.fetch("SELECT ...", day)
        return len(rows)

    async def purge(day):
        async with get_clickhouse_client() as client:
            client.execute("ALTER TABLE ... DELETE", day)
    ```

    ## Use instead
    ```python
    from analytics.db import get_clickhouse_client

    async def daily_totals(day):
        async with get_clickhouse_client() as client:
            rows = await client.fetch("SELECT ...", day)
            return len(rows)

    async def purge(day):
        async with get_clickhouse_client() as client:
            await client.execute("ALTER TABLE ... DELETE", day)
    ```

    ## Fix safety
    Safe, and applied by `codefix apply --rule clickhouse-async`, in three
    shapes inside an `async def`: `name = await factory(args)` becomes `async
    with factory(args) as name:` whose body is the rest of the enclosing
    block, re-indented with its comments and blank lines (string contents
    are not touched); `with factory(...)` becomes `async with`; a missing
    `await` on a method listed in `async_methods` is added. The first is
    applied only when `name` is not re-bound later in the block, not used
    after it, not captured by a nested function, and not returned or yielded
    out of it (`return await name.fetch(q)` is fine: its result flows out,
    not the client), since the client is closed when the block ends. Nothing
    is rewritten when only some bindings of the name are factories (try/except
    import fallbacks) or inside `pytest.raises(TypeError)`-style blocks that
    test the failure on purpose. The added `await` trusts `async_methods`:
    list only methods that are coroutines on your client. Everything else is
    reported, not rewritten.

    ## Configuration
    `[tool.codefix.clickhouse-async]`: `factories` (names or dotted paths of
    further factories: project functions or classes, or a dotted path
    outside the project, default `[]`), `async_methods` (default `["execute",
    "fetch", "insert", "query", "command"]`).
    """

    id = "clickhouse-async"
    summary = "ClickHouse async client factory used outside `async with` (TypeError, AttributeError or a query that never runs)"
    default_enabled = True
    options: Mapping[str, Any] = {
        "factories": [],
        "async_methods": ["execute", "fetch", "insert", "query", "command"],
    }
    checks_client_methods = True

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
        settings = super().validate_settings(settings, where)
        validate_name_list(settings, "factories", cls.id, where, dotted=True)
        validate_name_list(settings, "async_methods", cls.id, where, dotted=False)
        return settings

    def __init__(self, settings: Mapping[str, Any] | None = None, flags: frozenset[str] = frozenset()):
        super().__init__(settings, flags)
        factories = list(self.settings["factories"])
        self.simple_names = frozenset(f for f in factories if "." not in f)
        self.dotted_names = frozenset(f for f in factories if "." in f)
        self.async_methods = frozenset(self.settings["async_methods"])
        self._dotted_definitions: set[tuple[str, int]] = set()
        self._dotted_externals: set[str] = set()

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        for dotted in self.dotted_names:
            for outcome in resolver.resolve_dotted(dotted):
                if isinstance(outcome, Defined):
                    self._dotted_definitions.add((outcome.target.path, outcome.target.line))
                elif isinstance(outcome, External):
                    self._dotted_externals.add(outcome.qualified_name)
        super().prepare(index, resolver)

    def _listed(self, definition: FunctionInfo | ClassInfo) -> bool:
        return definition.name in self.simple_names or (definition.path, definition.line) in self._dotted_definitions

    def select_function(self, function: FunctionInfo, resolver: Resolver) -> bool:
        if is_async_context_factory(function, resolver):
            return "clickhouse" in function.name.casefold() or self._listed(function)
        # A listed plain `def` may return an async context manager; a listed
        # coroutine function (`async def` without the decorator) is awaited
        # correctly and cannot be one.
        return self._listed(function) and not function.is_async

    def select_class(self, info: ClassInfo, shape: ClassShape) -> bool:
        return self._listed(info)

    def configured_externals(self, resolver: Resolver) -> Iterable[str]:
        return sorted(self._dotted_externals)
