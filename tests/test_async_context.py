"""Rule `async-context`: every async context manager of the project, functions and classes.

Small projects written per case, run in-process; each fix is checked to
parse, to leave nothing fixable, and to change nothing when applied again.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import assert_parses, run_codefix

from codefix.engine import RunOptions, load_project, run
from codefix.rules import RULES_BY_ID
from codefix.types import RunResult

RULE = "async-context"

DEFINITIONS = '''\
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from vendor.sessions import RemoteBase


@asynccontextmanager
async def transaction():
    yield object()


class Session:
    """An async context manager class; its instances are ordinary objects too."""

    timeout = 5

    def __init__(self, dsn="db://"):
        self.dsn = dsn

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def query(self, sql):
        return [sql]


class Connect:
    """Awaitable as well, like `websockets.connect`."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    def __await__(self):
        return self._open().__await__()

    async def _open(self):
        return self


class Both:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


class SyncBase:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


class Derived(SyncBase):
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


class Timeout(AbstractAsyncContextManager):
    async def __aexit__(self, *exc):
        return None


class Dynamic:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    def __getattr__(self, name):
        return name


class Remote(RemoteBase):
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None
'''

HEADER = "from pkg.cm import Both, Connect, Derived, Dynamic, Remote, Session, Timeout, transaction\n\n\n"


def make_project(root: Path, use: str) -> Path:
    files = {"pkg/__init__.py": "", "pkg/cm.py": DEFINITIONS, "pkg/use.py": HEADER + textwrap.dedent(use)}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def scan(root: Path, *rules: str) -> RunResult:
    return run(RunOptions(paths=(root,), rules=rules or (RULE,)))


def apply(root: Path, *rules: str) -> str | None:
    """pkg/use.py below its imports after apply (checked to parse, leave nothing fixable, be stable), or None."""
    rules = rules or (RULE,)
    result = run(RunOptions(paths=(root,), rules=rules, fix=True))
    assert not result.errors, result.errors
    assert not [f for f in result.findings if f.fixable], result.findings
    changes = {change.path: change.after for change in result.changes}
    if "pkg/use.py" not in changes:
        return None
    (root / "pkg/use.py").write_bytes(changes["pkg/use.py"])
    assert_parses(root / "pkg/use.py")
    assert not run(RunOptions(paths=(root,), rules=rules, fix=True)).changes
    return changes["pkg/use.py"].decode().split("\n\n\n", 1)[1]


VALID = {
    "factory entered": """\
        async def f():
            async with transaction() as tx:
                return tx
        """,
    "class instances used as objects": """\
        async def f(sql):
            session = Session("db://replica")
            rows = await session.query(sql)
            return rows, session.dsn, session.timeout, Session().dsn
        """,
    "an awaitable class awaited": """\
        async def f():
            return await Connect()
        """,
    "a class with __enter__ too": """\
        async def f():
            with Both() as both:
                return both
        """,
    "__enter__ inherited from a project base": """\
        async def f():
            with Derived() as derived:
                return derived
        """,
    "__getattr__ answers anything": """\
        async def f():
            dynamic = Dynamic()
            return dynamic.anything
        """,
    "a base outside the project may provide __enter__": """\
        async def f():
            with Remote() as remote:
                return remote
        """,
    "classes constructed in plain defs": """\
        class Service:
            def __init__(self):
                self._session = Session()

            def reset(self):
                session = Session()
                session.dsn = "db://other"
                self._session = session
                return Session()
        """,
    "a factory stored in __init__ and entered by a method": """\
        class Service:
            def __init__(self):
                self._tx = transaction()

            async def run(self):
                async with self._tx as tx:
                    return tx
        """,
}


@pytest.mark.parametrize("use", VALID.values(), ids=VALID.keys())
def test_correct_code_is_not_reported(use: str, project: Path):
    result = scan(make_project(project, use))
    assert not result.errors and not result.findings, result.findings


@dataclass(frozen=True)
class Example:
    name: str
    use: str
    #: Lines of pkg/use.py (counted after HEADER) with a finding.
    lines: tuple[int, ...]
    message: str
    after: str | None = None


INVALID = [
    Example(
        "factory with any name awaited",
        """\
        async def f(sql):
            tx = await transaction()
            # the statement runs inside the transaction
            await tx.execute(sql)
        """,
        (2,),
        "`transaction` is an async context manager factory (pkg/cm.py:7); awaiting it raises TypeError",
        """\
        async def f(sql):
            async with transaction() as tx:
                # the statement runs inside the transaction
                await tx.execute(sql)
        """,
    ),
    Example(
        "class awaited",
        """\
        async def f(sql):
            session = await Session("db://")
            return await session.query(sql)
        """,
        (2,),
        "`Session` is an async context manager class (pkg/cm.py:11)",
        """\
        async def f(sql):
            async with Session("db://") as session:
                return await session.query(sql)
        """,
    ),
    Example(
        "plain with, on a factory and on classes",
        """\
        async def f():
            with transaction() as tx, Session() as session:
                with Timeout():
                    return tx, session
        """,
        (2, 2, 3),
        "a plain `with` raises TypeError",
        """\
        async def f():
            async with transaction() as tx, Session() as session:
                async with Timeout():
                    return tx, session
        """,
    ),
    Example(
        "an attribute the class does not have",
        """\
        async def f(sql):
            session = Session()
            await session.execute(sql)
            return Session().fetch(sql)
        """,
        (3, 4),
        "not the object it yields",
    ),
    Example(
        "a factory bound and never entered",
        """\
        async def f():
            pending = transaction()
            transaction()
        """,
        (2, 3),
        "`transaction` is an async context manager factory",
    ),
    Example(
        "plain defs using them",
        """\
        def f(sql):
            tx = transaction()
            tx.commit()
            return Session().execute(sql)
        """,
        (2, 4),
        "is a plain `def`: there is no async context to enter it in",
    ),
    Example(
        "a class defined in the same module",
        """\
        class Local:
            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                return None


        async def f():
            with Local() as local:
                return local
        """,
        (10,),
        "`Local` is an async context manager class (pkg/use.py:4)",
        """\
        class Local:
            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                return None


        async def f():
            async with Local() as local:
                return local
        """,
    ),
]


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.name)
def test_misuse_is_reported_and_fixed_where_promised(example: Example, project: Path):
    root = make_project(project, example.use)
    result = scan(root)
    offset = HEADER.count("\n")
    assert not result.errors, result.errors
    assert sorted(f.line - offset for f in result.findings) == sorted(example.lines), result.findings
    assert all(example.message in f.message for f in result.findings), [f.message for f in result.findings]
    assert all(f.fixable == (example.after is not None) for f in result.findings)
    expected = textwrap.dedent(example.after) if example.after is not None else None
    assert apply(root) == expected


def test_clickhouse_async_leaves_other_factories_to_this_rule(project: Path):
    root = make_project(project, "async def f():\n    tx = await transaction()\n    return await tx.fetch()\n")
    assert not scan(root, "clickhouse-async").findings
    assert len(scan(root).findings) == 1


def test_both_rules_together_fix_a_clickhouse_factory_once(project: Path):
    use = "async def f():\n    client = await get_clickhouse_client()\n    client.execute('q')\n"
    root = make_project(project, use)
    (root / "pkg/cm.py").write_text(DEFINITIONS + "\n\n@asynccontextmanager\nasync def get_clickhouse_client():\n    yield 1\n")
    (root / "pkg/use.py").write_text(HEADER.replace("transaction", "transaction, get_clickhouse_client") + use)
    found = scan(root, "clickhouse-async", RULE).findings
    # One bug, one finding: async-context generalizes clickhouse-async, so
    # where both flag the same code only the narrower rule reports it.
    assert sorted(f.rule for f in found) == ["clickhouse-async", "clickhouse-async"]
    fixed = apply(root, "clickhouse-async", RULE)
    assert fixed == "async def f():\n    async with get_clickhouse_client() as client:\n        await client.execute('q')\n"


def test_on_in_a_bare_scan_with_the_measurement_documented(project: Path):
    assert RULES_BY_ID[RULE].default_enabled
    make_project(project, "async def f():\n    return await transaction()\n")
    result = run_codefix("scan", "--format", "json", cwd=project)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == [RULE]
    explained = run_codefix("explain", RULE, cwd=project).stdout
    default = explained[explained.index("## Default") :]
    assert re.search(r"\bOn\b", default) and re.search(r"\d[\d,]* files", default), default


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("from pkg.cm import transaction\n\nasync def f():\n    return transaction()\n", True),
        ("from pkg.cm import Session\n\nasync def f():\n    s = Session()\n    return s.missing\n", True),
        ("from pkg.cm import Session\n\nasync def f():\n    with Session():\n        pass\n", True),
        ("import pkg.cm\n\nasync def f():\n    return await pkg.cm.Session()\n", True),
        ("from pkg.cm import Session\n\nasync def f():\n    s = Session()\n    return await s.query('q'), s.dsn\n", False),
        ("import vendor\n\nasync def f():\n    with vendor.Session():\n        pass\n", False),
        ("from vendor import Session\n\nasync def f():\n    return await Session()\n", False),
        ("class A:\n    async def f(self):\n        with self.Session():\n            pass\n", False),
        ("from vendor import *\n\nasync def f():\n    return await Session()\n", True),
        ("def f(:\n    Session()\n", True),
    ],
)
def test_prefilter_parses_only_files_whose_calls_can_be_reported(text: str, parsed: bool, project: Path):
    rule = load_project(RunOptions(paths=(make_project(project, ""),), rules=(RULE,))).rules[0]
    assert rule.might_match(text) is parsed
