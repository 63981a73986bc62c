"""Rule `clickhouse-async`: the fixture package, the fixed code running, and small cases.

The fixture under tests/fixtures/clickhouse_async/ is a small package whose
factory is defined in `analytics/db/clickhouse.py` and re-exported by
`analytics/db/__init__.py` and, renamed, by `analytics/compat.py`. It gets
the usual battery (expected findings, `after/` byte for byte, parses,
nothing fixable left, idempotent, undone by its patch) through the real
command line, then the fixed package is imported and run against a fake
async client, where the original raised. Smaller cases run in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, assert_parses, copy_tree, run_codefix, snapshot

from codefix.engine import RunOptions, run
from codefix.rules import RULES_BY_ID
from codefix.types import RunResult

RULE = "clickhouse-async"
FIXTURE = FIXTURES / "clickhouse_async"


# The fixture package, through the command line.


def scan_json(root: Path) -> dict:
    result = run_codefix("scan", "--rule", RULE, "--format", "json", cwd=root)
    assert result.code in (0, 1), result.stderr
    return json.loads(result.stdout)


def matches(finding: dict, expected: dict) -> bool:
    keys = ("rule", "path", "line", "col", "end_line", "end_col", "fixable")
    return all(finding[key] == expected[key] for key in keys) and all(
        piece in finding["message"] for piece in expected["message_contains"]
    )


@dataclass
class Applied:
    root: Path
    before: dict[str, bytes]
    scan_before: dict
    apply_stdout: str
    patch: Path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    """The fixture copied and scanned, then `codefix apply`-ed once for the module's tests."""
    root = copy_tree(FIXTURE / "before", tmp_path_factory.mktemp("clickhouse") / "project")
    before = snapshot(root)
    scan_before = scan_json(root)
    result = run_codefix("apply", "--rule", RULE, cwd=root)
    assert result.code == 1, result.stderr  # findings that are not fixable remain
    patches = sorted((root / ".codefix" / "patches").glob("*.patch"))
    assert len(patches) == 1
    return Applied(root, before, scan_before, result.stdout, patches[0])


def test_scan_reports_exactly_the_expected_findings(applied: Applied):
    expected = json.loads((FIXTURE / "expected_findings.json").read_text(encoding="utf-8"))["findings"]
    found = applied.scan_before["findings"]
    assert applied.scan_before["errors"] == []
    unmatched = [e for e in expected if not any(matches(f, e) for f in found)]
    unexpected = [f for f in found if not any(matches(f, e) for e in expected)]
    assert not unmatched and not unexpected, {"missing": unmatched, "unexpected": unexpected}


def test_correct_forms_and_other_libraries_are_left_alone(applied: Applied):
    flagged = {(f["path"], f["line"]) for f in applied.scan_before["findings"]}
    assert not any(path == "analytics/legacy.py" for path, _ in flagged)  # clickhouse_connect's get_client
    assert not any(path.startswith("analytics/db/") for path, _ in flagged)  # the factories, the sync helper
    cache = (FIXTURE / "before" / "analytics" / "cache.py").read_text().splitlines()
    correct = [number for number, text in enumerate(cache, 1) if "async with" in text or "hasattr" in text]
    correct += [number for number, text in enumerate(cache, 1) if "self._session = get_clickhouse_client()" in text]
    assert correct and not any(("analytics/cache.py", number) in flagged for number in correct)
    doubles = (FIXTURE / "before" / "analytics" / "test_reports.py").read_text().splitlines()
    double_def = doubles.index("    async def get_clickhouse_client():") + 1
    local_double = next(
        n for n, text in enumerate(doubles, 1) if n > double_def and text.strip() == "client = await get_clickhouse_client()"
    )
    assert ("analytics/test_reports.py", local_double) not in flagged
    assert not any(path == "analytics/test_reports.py" and line > local_double for path, line in flagged)


def test_apply_writes_the_expected_tree_byte_for_byte(applied: Applied):
    actual = snapshot(applied.root)
    expected = snapshot(FIXTURE / "after")
    assert sorted(actual) == sorted(expected)
    different = [path for path in expected if actual[path] != expected[path]]
    assert not different, different
    for path, data in actual.items():
        if path.endswith(".py"):
            assert_parses(applied.root / path)
        if data != applied.before[path]:
            assert path in (
                "analytics/reports.py",
                "analytics/jobs.py",
                "analytics/cache.py",
                "analytics/crlf_report.py",
                "analytics/aliased.py",
            )


def test_crlf_file_keeps_crlf_everywhere(applied: Applied):
    data = (applied.root / "analytics" / "crlf_report.py").read_bytes()
    assert data != applied.before["analytics/crlf_report.py"]
    assert data.count(b"\n") == data.count(b"\r\n") > 0


def test_lines_outside_the_rewrites_are_untouched(applied: Applied):
    """Lines outside a fixed finding reappear in order, unchanged or one level deeper (wrapped)."""
    spans: dict[str, set[int]] = {}
    for finding in applied.scan_before["findings"]:
        if finding["fixable"]:
            spans.setdefault(finding["path"], set()).update(range(finding["line"], finding["end_line"] + 1))
    changed = [path for path, data in applied.before.items() if (applied.root / path).read_bytes() != data]
    assert sorted(changed) == sorted(spans)
    for path in changed:
        output = (applied.root / path).read_bytes().splitlines(keepends=True)
        position = 0
        for number, line in enumerate(applied.before[path].splitlines(keepends=True), 1):
            if number in spans[path]:
                continue
            accepted = (line, b"    " + line) if line.strip() else (line,)
            while position < len(output) and output[position] not in accepted:
                position += 1
            assert position < len(output), f"{path}:{number}: {line!r} is not in the output, as it was or re-indented"
            position += 1


def test_nothing_fixable_remains_and_what_remains_was_reported_before(applied: Applied):
    after = scan_json(applied.root)
    assert after["errors"] == []
    assert not [f for f in after["findings"] if f["fixable"]]
    unfixable_before = {(f["path"], f["message"]) for f in applied.scan_before["findings"] if not f["fixable"]}
    assert {(f["path"], f["message"]) for f in after["findings"]} == unfixable_before
    fixable = sum(f["fixable"] for f in applied.scan_before["findings"])
    assert f"Fixed {fixable} findings in 5 files." in applied.apply_stdout


def test_second_apply_changes_nothing(applied: Applied, tmp_path: Path):
    root = copy_tree(applied.root, tmp_path / "again")
    before = snapshot(root)
    result = run_codefix("apply", "--rule", RULE, cwd=root)
    assert "Fixed 0 findings in 0 files." in result.stdout
    assert snapshot(root) == before


def test_the_patch_restores_the_original(applied: Applied, tmp_path: Path):
    root = copy_tree(applied.root, tmp_path / "reverted")
    result = run_codefix("revert", root / ".codefix" / "patches" / applied.patch.name, cwd=root)
    assert result.code == 0, result.stderr
    restored = {path: data for path, data in snapshot(root).items() if not path.startswith(".codefix")}
    assert restored == applied.before


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path):
    root = copy_tree(FIXTURE / "before", tmp_path / "dry")
    before = snapshot(root)
    result = run_codefix("apply", "--dry-run", "--rule", RULE, cwd=root)
    assert "+    async with get_clickhouse_client() as client:  # opened here" in result.stdout
    assert "+        await client.execute(\"SYSTEM REFRESH VIEW daily_sales\")" in result.stdout
    assert snapshot(root) == before


# The fixed code runs; the original raised.


class FakeClient:
    """What a ClickHouse driver's async client looks like, in memory."""

    def __init__(self, rows: list[tuple[int]]):
        self.rows = rows
        self.statements: list[str] = []
        self.closed = False

    async def fetch(self, query: str, params: object = None) -> list[tuple[int]]:
        self.statements.append(query)
        return list(self.rows)

    async def execute(self, query: str, params: object = None) -> None:
        self.statements.append(query)

    async def insert(self, table: str, rows: list[object]) -> None:
        self.statements.append(f"INSERT INTO {table}")

    async def close(self) -> None:
        self.closed = True


@contextlib.contextmanager
def imported_package(root: Path, rows: list[tuple[int]]):
    """Import `analytics` from `root` with its driver replaced by a fake factory of FakeClients."""
    opened: list[FakeClient] = []

    async def connect(dsn: str) -> FakeClient:
        client = FakeClient(rows)
        opened.append(client)
        return client

    sys.path.insert(0, str(root))
    try:
        clickhouse = importlib.import_module("analytics.db.clickhouse")
        clickhouse.connect = connect
        modules = {name: importlib.import_module(f"analytics.{name}") for name in ("reports", "jobs", "crlf_report")}
        yield modules, opened
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == "analytics" or name.startswith("analytics.")]:
            del sys.modules[name]


def test_the_fixed_package_runs_where_the_original_raised(applied: Applied, tmp_path: Path):
    original = copy_tree(FIXTURE / "before", tmp_path / "original")
    rows = [(3,), (4,)]
    with imported_package(original, rows) as (modules, opened):
        reports, jobs = modules["reports"], modules["jobs"]
        for coroutine in (reports.daily_total("2024-05-01"), reports.purge("2024-05-01"), modules["crlf_report"].crlf_total()):
            with pytest.raises(TypeError, match="can't be used in 'await' expression"):
                asyncio.run(coroutine)
        with pytest.raises(TypeError, match="context manager protocol"):
            asyncio.run(jobs.refresh_views())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the un-awaited insert
            assert asyncio.run(jobs.archive("2024-05-01")) == rows
        assert [client.statements for client in opened] == [["SELECT count() FROM archive"]]  # no INSERT ran

    with imported_package(applied.root, rows) as (modules, opened):
        reports, jobs = modules["reports"], modules["jobs"]
        assert asyncio.run(reports.daily_total("2024-05-01")) == (7, "multi-line text\nkeeps its own indentation")
        assert asyncio.run(reports.weekly_counts(["mon", "tue"])) == {"mon": 2, "tue": 2}
        assert asyncio.run(reports.purge("2024-05-01")) == "purged"
        assert asyncio.run(modules["crlf_report"].crlf_total()) == 2
        assert asyncio.run(jobs.refresh_views()) == rows
        assert asyncio.run(jobs.archive("2024-05-01")) == rows
        assert all(client.closed for client in opened) and len(opened) == 7
        statements = [statement for client in opened for statement in client.statements]
        assert "INSERT INTO archive" in statements and "SYSTEM REFRESH VIEW daily_sales" in statements


# Small cases, in-process.

FACTORY = '''\
from contextlib import asynccontextmanager


@asynccontextmanager
async def get_clickhouse_client(dsn="x"):
    yield object()


@asynccontextmanager
async def open_session():
    yield object()
'''


def make_project(root: Path, use: str, extra: dict[str, str] | None = None, settings: str = "") -> Path:
    files = {"pkg/__init__.py": "", "pkg/db.py": FACTORY, "pkg/use.py": textwrap.dedent(use), **(extra or {})}
    if settings:
        (root / "pyproject.toml").write_text(f'[project]\nname = "example"\nversion = "0"\n\n{settings}')
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return root


def scan(root: Path, rule: str = RULE) -> RunResult:
    return run(RunOptions(paths=(root,), rules=(rule,)))


def fixed_text(root: Path, rule: str = RULE, path: str = "pkg/use.py") -> str | None:
    """The file after `apply` (checked to parse, to leave nothing fixable, and to be stable), or None."""
    result = run(RunOptions(paths=(root,), rules=(rule,), fix=True))
    assert not result.errors, result.errors
    assert not [f for f in result.findings if f.fixable], result.findings
    changes = {change.path: change for change in result.changes}
    if path not in changes:
        return None
    target = root / path
    target.write_bytes(changes[path].after)
    assert_parses(target)
    again = run(RunOptions(paths=(root,), rules=(rule,), fix=True))
    assert not again.changes, "a second apply changed the file again"
    return changes[path].after.decode()


@dataclass(frozen=True)
class Example:
    name: str
    use: str
    #: Lines of pkg/use.py with a finding; empty for code that is correct.
    lines: tuple[int, ...] = ()
    #: pkg/use.py after apply, None when nothing is rewritten.
    after: str | None = None
    message: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    settings: str = ""


VALID = [
    Example("entered by async with", """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            async with get_clickhouse_client() as client:
                return await client.execute(q)
        """),
    Example("bound, then entered", """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            cm = get_clickhouse_client()
            async with cm as client:
                return await client.fetch(q)
        """),
    Example("entered by hand", """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            cm = get_clickhouse_client()
            client = await cm.__aenter__()
            try:
                return await client.fetch(q)
            finally:
                await cm.__aexit__(None, None, None)
        """),
    Example("handed to an exit stack", """\
        import contextlib
        from pkg.db import get_clickhouse_client

        async def f(q):
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(get_clickhouse_client())
                return await client.fetch(q)
        """),
    Example("getattr guard", """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            source = get_clickhouse_client()
            if getattr(source, "__aenter__", None) is not None:
                async with source as client:
                    return await client.fetch(q)
            return await source.fetch(q)
        """),
    Example("returned from a plain def", """\
        from pkg.db import get_clickhouse_client

        def clickhouse():
            return get_clickhouse_client("dsn")

        def bound_then_returned():
            cm = get_clickhouse_client("dsn")
            return cm
        """),
    Example("an acm without clickhouse in its name, not listed", """\
        from pkg.db import open_session

        async def f():
            session = await open_session()
            return session
        """),
    Example("a sync contextmanager named clickhouse", """\
        from contextlib import contextmanager

        @contextmanager
        def clickhouse_session():
            yield object()

        async def f():
            with clickhouse_session() as session:
                return session
        """),
    Example("a method of the client, not the factory", """\
        from pkg.db import get_clickhouse_client

        class Repo:
            async def get_clickhouse_client(self):
                return object()

            async def f(self):
                return await self.get_clickhouse_client()
        """),
    Example("mentions that are not code", '''\
        from pkg.db import get_clickhouse_client

        async def f():
            """>>> client = await get_clickhouse_client()"""
            # client = await get_clickhouse_client()
            return "not `await get_clickhouse_client()`"
        '''),
    Example("a method not listed as async", """\
        from pkg.db import get_clickhouse_client

        async def f():
            async with get_clickhouse_client() as client:
                client.close()
                client.ping()
        """),
    Example("client re-bound inside the block", """\
        from pkg.db import get_clickhouse_client

        async def f(other):
            async with get_clickhouse_client() as client:
                client = other
                client.execute("q")
        """),
]


@pytest.mark.parametrize("example", VALID, ids=lambda e: e.name)
def test_correct_code_is_not_reported(example: Example, project: Path):
    root = make_project(project, example.use, dict(example.extra), example.settings)
    result = scan(root)
    assert not result.errors and not result.findings, result.findings


INVALID = [
    Example(
        "two awaited factories in one block become nested async with",
        """\
        from pkg import db
        from pkg.db import get_clickhouse_client as gcc

        async def copy(q):
            source = await gcc("a")
            target = await db.get_clickhouse_client("b")
            rows = await source.fetch(q)
            await target.insert("t", rows)
        """,
        lines=(5, 6),
        after="""\
        from pkg import db
        from pkg.db import get_clickhouse_client as gcc

        async def copy(q):
            async with gcc("a") as source:
                async with db.get_clickhouse_client("b") as target:
                    rows = await source.fetch(q)
                    await target.insert("t", rows)
        """,
    ),
    Example(
        "imported inside the function, tab-indented",
        "async def f(q):\n\tfrom pkg.db import get_clickhouse_client\n\tclient = await get_clickhouse_client()\n\tif q:\n\t\treturn await client.fetch(q)\n",
        lines=(3,),
        after="async def f(q):\n\tfrom pkg.db import get_clickhouse_client\n\tasync with get_clickhouse_client() as client:\n\t\tif q:\n\t\t\treturn await client.fetch(q)\n",
    ),
    Example(
        "re-bound later in the block",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q, other):
            client = await get_clickhouse_client()
            rows = await client.fetch(q)
            client = other
            return rows
        """,
        lines=(4,),
        message="`client` is re-bound later in the block",
    ),
    Example(
        "used after the enclosing block",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q, ready):
            if ready:
                client = await get_clickhouse_client()
                await client.fetch(q)
            return client
        """,
        lines=(5,),
        message="`client` is used after the block",
    ),
    Example(
        "captured by a nested function",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            client = await get_clickhouse_client()
            return lambda: client.fetch(q)
        """,
        lines=(4,),
        message="captured by a nested function",
    ),
    Example(
        "captured by a function defined before it",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            def current():
                return client
            client = await get_clickhouse_client()
            await client.fetch(q)
            return current
        """,
        lines=(6,),
        message="captured by a nested function",
    ),
    Example(
        "an un-awaited coroutine returned",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            client = await get_clickhouse_client()
            return client.fetch(q)
        """,
        lines=(4,),
        message="returned or yielded out of the block",
    ),
    Example(
        "nothing follows it",
        """\
        from pkg.db import get_clickhouse_client

        async def f():
            client = await get_clickhouse_client()
        """,
        lines=(4,),
        message="nothing follows it",
    ),
    Example(
        "awaited inside an expression or as a statement",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            await get_clickhouse_client()
            return (await get_clickhouse_client()).fetch(q)
        """,
        lines=(4, 5),
        message="only `name = await ...` statements are rewritten",
    ),
    Example(
        "an annotated assignment and a shared line",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            client: object = await get_clickhouse_client()
            other = await get_clickhouse_client(); print(other)
            return await client.fetch(q)
        """,
        lines=(4, 5),
        message="not fixed",
    ),
    Example(
        "a with that also enters a synchronous context manager",
        """\
        from pkg.db import get_clickhouse_client

        async def f(path):
            with get_clickhouse_client() as client, open(path) as handle:
                return client, handle
        """,
        lines=(4,),
        message="also enters synchronous context managers",
    ),
    Example(
        "a with in a plain def",
        """\
        from pkg.db import get_clickhouse_client

        def f():
            with get_clickhouse_client() as client:
                return client
        """,
        lines=(4,),
        message="`f` is a plain `def`, which cannot enter it",
    ),
    Example(
        "a with inside a one-line body",
        """\
        from pkg.db import get_clickhouse_client

        async def f():
            with get_clickhouse_client() as client: client.execute("q")
        """,
        lines=(4, 4),
        after="""\
        from pkg.db import get_clickhouse_client

        async def f():
            async with get_clickhouse_client() as client: await client.execute("q")
        """,
    ),
    Example(
        "used directly and dropped",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            get_clickhouse_client()
            return await get_clickhouse_client().fetch(q)
        """,
        lines=(4, 5),
    ),
    Example(
        "a module-level context manager used from functions",
        """\
        from pkg.db import get_clickhouse_client

        CLIENT = get_clickhouse_client()

        async def f(q):
            return await CLIENT.fetch(q)

        async def g(q):
            with CLIENT:
                return await CLIENT(q)
        """,
        lines=(6, 9, 10),
        message="`CLIENT` holds the context manager",
    ),
    Example(
        "cached in __init__ and used by a method",
        """\
        from pkg.db import get_clickhouse_client

        class Repo:
            def __init__(self):
                self._client = get_clickhouse_client()

            async def count(self):
                return await self._client.fetch("SELECT count()")
        """,
        lines=(5, 8),
    ),
    Example(
        "un-awaited methods, annotated or under a configured name",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            async with get_clickhouse_client() as client:
                rows: list = client.query(q)
                client.flush()
                (client.execute(q))
                print(client.execute(q))
                return rows
        """,
        lines=(5, 6, 7),
        after="""\
        from pkg.db import get_clickhouse_client

        async def f(q):
            async with get_clickhouse_client() as client:
                rows: list = await client.query(q)
                await client.flush()
                await (client.execute(q))
                print(client.execute(q))
                return rows
        """,
        settings='[tool.codefix.clickhouse-async]\nasync_methods = ["query", "execute", "flush"]\n',
    ),
    Example(
        "a listed plain def factory, by dotted path",
        """\
        from pkg.wrappers import open_replica

        async def f(q):
            replica = await open_replica()
            return await replica.fetch(q)
        """,
        lines=(4,),
        after="""\
        from pkg.wrappers import open_replica

        async def f(q):
            async with open_replica() as replica:
                return await replica.fetch(q)
        """,
        extra=(("pkg/wrappers.py", "from pkg.db import open_session\n\n\ndef open_replica():\n    return open_session()\n"),),
        settings='[tool.codefix.clickhouse-async]\nfactories = ["pkg.wrappers.open_replica"]\n',
    ),
    Example(
        "suppressed on its line",
        """\
        from pkg.db import get_clickhouse_client

        async def f(q):
            client = await get_clickhouse_client()  # codefix: ignore[clickhouse-async]
            other = await get_clickhouse_client()
            return await client.fetch(q), other
        """,
        lines=(5,),
        message="returned or yielded out of the block",
    ),
]


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.name)
def test_misuse_is_reported_and_fixed_where_promised(example: Example, project: Path):
    root = make_project(project, example.use, dict(example.extra), example.settings)
    result = scan(root)
    assert not result.errors, result.errors
    assert sorted(f.line for f in result.findings) == sorted(example.lines), result.findings
    assert all(f.path == "pkg/use.py" and f.rule == RULE for f in result.findings)
    assert all(example.message in f.message for f in result.findings), result.findings
    expected = textwrap.dedent(example.after) if example.after is not None else None
    if expected is not None:
        assert all(f.fixable for f in result.findings), result.findings
    else:
        assert not any(f.fixable for f in result.findings), result.findings
    assert fixed_text(root) == expected


def test_decorator_under_any_alias_and_re_exported(project: Path):
    modules = {
        "pkg/__init__.py": "",
        "pkg/util.py": "from contextlib import asynccontextmanager as acm\n",
        "pkg/a.py": "import contextlib as cl\n\n\n@cl.asynccontextmanager\nasync def clickhouse_a():\n    yield 1\n",
        "pkg/b.py": "import contextlib\n\n\n@contextlib.asynccontextmanager\nasync def clickhouse_b():\n    yield 2\n",
        "pkg/c.py": "from pkg.util import acm\n\n\n@acm\nasync def ClickHouse_c():\n    yield 3\n",
        "pkg/use.py": (
            "from pkg.a import clickhouse_a\nfrom pkg.b import clickhouse_b\nfrom pkg.c import ClickHouse_c\n\n\n"
            "async def f():\n    return [await clickhouse_a(), await clickhouse_b(), await ClickHouse_c()]\n"
        ),
    }
    for relative, text in modules.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    findings = scan(project).findings
    assert [(f.line, f.col) for f in findings] == [(7, 13), (7, 35), (7, 57)]
    assert ["pkg/a.py:5", "pkg/b.py:5", "pkg/c.py:5"] == [f.message.split("(")[1].split(")")[0] for f in findings]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('factories = "get_client"', "clickhouse-async.factories"),
        ('factories = ["pkg..db"]', "clickhouse-async.factories"),
        ('async_methods = ["client.execute"]', "clickhouse-async.async_methods"),
        ("async_method = []", "clickhouse-async.'async_method'"),
    ],
)
def test_bad_settings_are_one_error_naming_the_key(table: str, key: str, project: Path):
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.codefix.clickhouse-async]\n{table}\n')
    result = run_codefix("scan", "--rule", RULE, cwd=project)
    assert result.code == 2
    assert key in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_on_by_default_and_documented(tmp_path: Path):
    rule = RULES_BY_ID[RULE]
    assert rule.default_enabled
    result = run_codefix("explain", RULE, cwd=tmp_path)
    assert "`async_methods`" in result.stdout and "## Fix safety" in result.stdout
