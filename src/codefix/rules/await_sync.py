"""Rule `await-sync`: any synchronous function of the project awaited."""

from __future__ import annotations

from codefix.assigned_aliases import AssignedAliases
from codefix.callees import Verdict, classify
from codefix.import_text import FromImports
from codefix.index import FunctionInfo, ModuleInfo, ProjectIndex, absolute_module
from codefix.lexical import ScreenedText, defines_function, written_after_a_dot
from codefix.resolution import Defined, Outcome, Resolver
from codefix.rules._awaited_sync import AwaitedSyncCallRule, renamed_exports
from codefix.rules.base import Example, FileContext


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
    On in a bare `codefix scan`. Measured over the async code of 17 PyPI
    packages (aiohttp, starlette, fastapi, httpx, anyio, asyncpg, redis,
    trio, websockets, uvicorn and more: 2,829 files, 1.24 million lines), it
    reported 0 findings, so its noise is nil, while a planted
    `await is_async_callable(x)` in starlette was found and fixed. Where it
    and `await-websocket` flag the same await, only `await-websocket` reports.
    """

    id = "await-sync"
    summary = "Any synchronous project function awaited (TypeError at run time)"
    default_enabled = True
    generalizes = "await-websocket"
    examples = (
        Example("def load():\n    return {}\n\nasync def main():\n    return await load()\n", 1,
                "def load():\n    return {}\n\nasync def main():\n    return load()\n"),
        Example("async def load():\n    return {}\n\nasync def main():\n    return await load()\n"),
        Example("import asyncio\n\ndef load():\n    return asyncio.sleep(1)\n\nasync def main():\n    await load()\n"),
        Example("from typing import Awaitable\n\ndef load(x) -> Awaitable[int]:\n    return x\n\nasync def main(x):\n    await load(x)\n"),
        Example("def load(client):\n    return client.fetch()\n\nasync def main(c):\n    await load(c)\n"),
        Example("def passthrough(coro):\n    return coro\n\nasync def main(c):\n    await passthrough(c)\n"),
        Example(
            "class Fut:\n    def __await__(self):\n        yield\n\nclass Gathering(Fut):\n    pass\n\n"
            "def gather():\n    outer = Gathering()\n    return outer\n\nasync def main():\n    await gather()\n"
        ),
        Example(
            "class Manager:\n    pass\n\ndef get():\n    m = Manager()\n    return m\n\nasync def main():\n    await get()\n",
            1,
            "class Manager:\n    pass\n\ndef get():\n    m = Manager()\n    return m\n\nasync def main():\n    get()\n",
        ),
        Example("import functools\n\ndef deco(f):\n    return f\n\n@deco\ndef load():\n    return 1\n\nasync def main():\n    await load()\n"),
        Example("import pytest\n\ndef load():\n    return 1\n\n@pytest.mark.xfail(raises=TypeError)\nasync def test_it():\n    await load()\n", 1),
        Example("import asyncio\n\ndef load():\n    return 1\n\ndef main():\n    asyncio.run(load())\n", 1),
        Example("from asyncio import run as start\n\ndef load():\n    return 1\n\ndef main():\n    start(load())\n", 1),
        Example(
            "def load():\n    return {}\n\nasync def main():\n    fetch = load\n    return await fetch()\n",
            1,
            "def load():\n    return {}\n\nasync def main():\n    fetch = load\n    return fetch()\n",
        ),
        Example("async def load():\n    return {}\n\nfetch = load\n\nasync def main():\n    return await fetch()\n"),
        Example("def load():\n    return 1\n\nasync def main():\n    x = await load()  # codefix: ignore[await-sync]\n"),
        Example('def load():\n    return 1\n\nasync def main():\n    """>>> await load()"""\n    return "await load()"  # await load()\n'),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._candidate_names: frozenset[str] = frozenset()
        self._resolver: Resolver | None = None
        self._imports_read: tuple[ScreenedText, FromImports] | None = None

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
        self._resolver = resolver

    def candidate_names(self) -> frozenset[str]:
        return self._candidate_names

    def may_name_a_target(self, callee: str, module: ModuleInfo, index: ProjectIndex) -> bool:
        """Also no target: a plain name whose module-level bindings all resolve to no synchronous function.

        In a real service most functions share their names with others
        (`handle`, `load`), so most awaited calls of imported project
        functions spell a candidate name although they resolve to an
        `async def`; each sent its module to LibCST. The analysis reports
        an await only when the callee resolves to a synchronous function,
        and a plain name resolves where it is used to the module's own
        bindings, unless the file binds it some other way: by a `def` of
        that name anywhere (nested ones too), or an import inside a function
        or class body. Those keep the module a candidate; bindings by
        assignment or parameters resolve to nothing judged (`Opaque`).
        """
        if not super().may_name_a_target(callee, module, index):
            return False
        if "." in callee or self._resolver is None:
            return True
        if callee in module.scoped_imported_names or any(f.name == callee for f in module.functions_by_line.values()):
            return True
        return any(isinstance(outcome, Defined) and self._is_sync(outcome) for outcome in self._resolver.resolve_in_module(module, callee))

    def reaches_no_target(self, screened: ScreenedText, name: str) -> bool:
        """The text's side of `may_name_a_target`: for the screening (files nobody imports) and `screening.analysis_cut`.

        True only when the text shows every binding the await can see: no
        `def name` anywhere, no star import, `name` never read after a dot
        (`mod.name()` is another callee with the same last name), and `from`
        imports binding it, each read plainly and resolving (with the index
        the rule was prepared on, which holds every module a file can
        import) to project definitions only, none of them a synchronous
        function.
        A plain alias (`name = other`) is followed by the analysis, so a
        name the text may assign so is a concern; any other binding (a
        parameter, an assignment of a call) resolves to nothing judged.
        """
        resolver = self._resolver
        package = screened.package
        if resolver is None or package is None:
            return False
        text = screened.text
        if defines_function(text, name) or written_after_a_dot(text, name) or AssignedAliases(text).values(name):
            return False
        if self._imports_read is None or self._imports_read[0] is not screened:
            self._imports_read = (screened, FromImports(text))  # once per file, for all its awaited names
        bindings = self._imports_read[1].bindings(name)
        if not bindings:
            return False
        for binding in bindings:
            outcomes = resolver.resolve_attribute(absolute_module(binding.level, binding.module, package), binding.name)
            if not outcomes or not all(isinstance(o, Defined) and not self._is_sync(o) for o in outcomes):
                return False
        return True

    def _is_sync(self, outcome: Defined) -> bool:
        return isinstance(outcome.target, FunctionInfo) and classify(outcome.target, self._resolver) is Verdict.SYNC

    def might_match(self, text: str) -> bool:
        return "await" in text or "asyncio" in text or "run_until_complete" in text or "create_task" in text

    def is_target(self, outcome: Outcome, context: FileContext) -> bool:
        return isinstance(outcome, Defined) and isinstance(outcome.target, FunctionInfo)
