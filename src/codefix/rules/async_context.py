"""Rule `async-context`: any async context manager of the project used outside `async with`."""

from __future__ import annotations

from codefix.index import ClassInfo, FunctionInfo
from codefix.resolution import Resolver
from codefix.rules._async_context_core import (
    AsyncContextRule,
    ClassShape,
    is_async_context_factory,
)


class AsyncContext(AsyncContextRule):
    """
    ## What it does
    The analysis of `clickhouse-async`, generalized to every async context
    manager the project defines: every function decorated with
    `@asynccontextmanager` (under any import alias), whatever its name, and
    every class with `__aenter__` and no `__enter__` (inherited ones
    included; a class with a base from outside the project that codefix
    cannot see is skipped). Call sites are followed through imports, aliases
    and re-exports. Reported:

    1. the factory or class awaited (classes with `__await__` excepted);
    2. entered with a plain `with`;
    3. the result bound to a name or attribute and then used as the object it
       yields (`cm.execute(q)`, `await cm`, `with cm`) or, for factories,
       never entered; for classes, only attributes the class does not have
       count as misuse, since an instance is an ordinary object too;
    5. a factory called inside a plain `def` (`return factory()` hands it to
       the caller and is fine); a class only when the plain `def` uses the
       fresh instance as something else.

    Un-awaited client methods (case 4 of `clickhouse-async`) are not
    checked: which methods are coroutines depends on the client.

    ## Why is this bad?
    An async context manager must be entered with `async with` before the
    object it yields exists. Awaiting it or entering it with `with` raises
    `TypeError`; using it as that object raises `AttributeError`; never
    entering it means its setup and teardown never run. All of these fail
    only when the line runs.

    ## Example
    ```python
    from app.db import transaction

    async def transfer(amount):
        tx = await transaction()
        await tx.execute("UPDATE ...", amount)
    ```

    ## Use instead
    ```python
    from app.db import transaction

    async def transfer(amount):
        async with transaction() as tx:
            await tx.execute("UPDATE ...", amount)
    ```

    ## Fix safety
    The same safe fixes as `clickhouse-async`, under the same conditions:
    `name = await factory(args)` becomes `async with factory(args) as name:`
    around the rest of its block when the name does not outlive the block,
    and `with` becomes `async with`, both only inside an `async def`. For a
    class, `async with Cls(...) as name` binds what `__aenter__` returns,
    which is almost always the instance itself. Everything else is reported.

    ## Default
    On in a bare `codefix scan`. Measured on real async code installed from
    PyPI (aiohttp, aiochclient, aiokafka, aiosqlite, anyio, asynch, asyncpg,
    clickhouse-connect, databases, fastapi, httpcore, httpx, motor, redis,
    sqlalchemy, starlette, trio, uvicorn, websockets: 1,120 files, 569,435
    lines, each package scanned as its own project), which defines 15
    `@asynccontextmanager` functions and 78 async context manager classes
    with 138 call sites between them: 0 findings. What it reports fails
    whenever the line runs, so a finding is a bug, not a matter of style.
    The version that treated class instances like factory results (any
    attribute read on an instance, any construction in a plain `def`)
    reported 39 findings there, all false (`self._connection.handle_async_request`
    on httpcore's connection objects and the like); hence the class rules
    above. Its cost is the LibCST analysis of files that call a target:
    31.6 s on that corpus against 18.3 s for `await-sync`, most of it in
    libraries that construct their own context manager classes; a text and
    `ast` prefilter keeps files whose calls of classes cannot be reported
    from being parsed at all.
    """

    id = "async-context"
    summary = "Async context manager of the project used outside `async with` (TypeError or AttributeError at run time)"
    default_enabled = True
    generalizes = "clickhouse-async"

    def select_function(self, function: FunctionInfo, resolver: Resolver) -> bool:
        return is_async_context_factory(function, resolver)

    def select_class(self, info: ClassInfo, shape: ClassShape) -> bool:
        return True
