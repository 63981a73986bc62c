"""screening.py and lexical.py: files left unparsed never change what a run finds.

The oracle is the same run with the screening off (every file indexed, as
before it existed). Scans and fixes of a generated monorepo, of every fixture
tree, and of a project built from the ways a module is reached without being
named plainly (star imports, attribute chains over lines, `pytest_plugins`
strings, aliases in files nobody imports) must be equal. The screening must
also really skip files, or a broken prefilter that indexes everything would
pass the oracle unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, copy_tree, generated_corpus, invoke, write

from codefix import screening
from codefix.engine import RunOptions, load_project, run
from codefix.lexical import (
    awaited_callees,
    called_words,
    local_words,
    module_key,
    module_words,
)


def _run(root: Path, fix: bool, screen: bool, monkeypatch, paths: tuple[Path, ...] | None = None):
    monkeypatch.setattr(screening, "SCREEN", screen)
    options = RunOptions(paths=paths or (root,), fix=fix, use_cache=False, jobs=1)
    project = load_project(options)
    result = run(options, project)
    changes = tuple((c.path, c.before, c.after) for c in result.changes)
    _run.partial = dict(project.index.partial)  # type: ignore[attr-defined]
    return (result.findings, changes, result.fixed), result.errors, project.skipped


def _assert_same(root: Path, fix: bool, monkeypatch) -> frozenset[str]:
    """Screened == unscreened; errors differ only by files the screening skipped. Returns the skipped files."""
    screened, screened_errors, skipped = _run(root, fix, True, monkeypatch)
    full, full_errors, none_skipped = _run(root, fix, False, monkeypatch)
    assert not none_skipped
    assert screened == full
    assert list(screened_errors) == [error for error in full_errors if error.path not in skipped]
    return skipped


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    generated_corpus(root, 60, seed=11, largest=12)
    return root


@pytest.mark.parametrize("fix", [False, True], ids=["scan", "apply"])
def test_a_generated_monorepo_gives_what_a_full_index_gives(corpus: Path, fix: bool, monkeypatch):
    skipped = _assert_same(corpus, fix, monkeypatch)
    assert len(skipped) >= 20, "most leaf modules of the corpus are imported by nothing and hold no site"
    _run(corpus, fix, True, monkeypatch)
    assert _run.partial, "files with a planted bug hold many functions no rule needs"
    found, _, _ = _run(corpus, fix, True, monkeypatch)
    assert found[0] or found[1], "there was something to find"


def test_every_fixture_tree_gives_what_a_full_index_gives(tmp_path: Path, monkeypatch):
    trees = sorted(path.parent for path in FIXTURES.glob("*/before"))
    checked = 0
    for number, tree in enumerate(trees):
        if not (tree / "before").is_dir():
            continue
        root = copy_tree(tree / "before", tmp_path / str(number))
        for fix in (False, True):
            _assert_same(root, fix, monkeypatch)
        checked += 1
    assert checked >= 3


#: Modules reached without a plain `from module import name`, and sites in files nobody imports.
REACH = {
    "pyproject.toml": '[tool.pytest.ini_options]\nmarkers = ["slow: slow tests"]\n',
    "pkg/__init__.py": "from .impl import *\n",
    "pkg/impl.py": (
        "from contextlib import asynccontextmanager\n\n__all__ = ['factory']\n\n\n"
        "@asynccontextmanager\nasync def factory():\n    yield 1\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep.py": "def sync_helper():\n    return 1\n",
    "pkg/sub/lines.py": "def far_helper():\n    return 2\n",
    "pkg/uses.py": (
        "import pkg.sub\n\n\nasync def go():\n    helper = (pkg.\n        sub.lines.far_helper)\n"
        "    await pkg.sub.  \\\n        lines.far_helper()\n"
    ),
    "scripts/run_me.py": "from pkg import factory as warehouse\n\n\ndef main():\n    with warehouse() as c:\n        return c\n",
    "scripts/deep_alias.py": "import pkg.sub.deep as d\n\n\nasync def main():\n    await d.sync_helper()\n",
    "scripts/local_only.py": "def load():\n    return 1\n\n\nasync def main():\n    await load()\n",
    # `fetch = load` then `await fetch()`: the alias is followed, screened or not.
    "scripts/renamed.py": "def load():\n    return 1\n\n\nfetch = load\n\n\nasync def main():\n    await fetch()\n",
    "scripts/own_factory.py": (
        "from contextlib import asynccontextmanager\n\n\n@asynccontextmanager\nasync def own():\n    yield 1\n\n\n"
        "def main():\n    with own() as c:\n        return c\n"
    ),
    # Targets of a module nobody imports, which spells neither `asynccontextmanager` nor a trigger word's call.
    "pkg/util.py": "from contextlib import asynccontextmanager as acm\n",
    "scripts/decorated.py": (
        "from pkg.util import acm\n\n\n@acm\nasync def mine():\n    yield 1\n\n\n"
        "def main():\n    with mine() as c:\n        return c\n"
    ),
    "scripts/own_class.py": (
        "class Own:\n    async def __aenter__(self):\n        return self\n\n"
        "    async def __aexit__(self, *exc):\n        return None\n\n\n"
        "def main():\n    with Own() as c:\n        return c\n"
    ),
    # `grab = factory` in the calling module, a file nobody imports: the screening reads the alias
    # (`assigned_aliases.py`), so `grab()` is a concern. `run_me.py` imports the factory `as` another name.
    "scripts/aliased.py": "from pkg import factory\n\ngrab = factory\n\n\ndef main():\n    with grab() as c:\n        return c\n",
    # `run` imported under another name and handed a synchronous call: the calls of `start` are
    # concerns (`lexical.consumer_names`), and the rule looks at them, screened or not.
    "scripts/runner.py": "from asyncio import run as start\nfrom pkg.sub.deep import sync_helper\n\n\ndef main():\n    start(sync_helper())\n",
    # Awaits no call, and spells "run" only inside words: no concern.
    "scripts/awaits_names.py": "async def main(fut):\n    running = True\n    await fut\n    return running\n",
    # Calls of its own helpers only: no concern of any rule.
    "scripts/helpers_only.py": "def helper():\n    return 1\n\n\ndef main():\n    value = helper()\n    return value\n",
    "scripts/clean.py": "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(0)\n",
    "scripts/unrelated.py": "def helper(x):\n    return x.get('k')\n",
    "conftest.py": 'pytest_plugins = "myplugin"\n',
    "myplugin.py": 'def pytest_configure(config):\n    config.addinivalue_line("markers", "custom: registered by a plugin")\n',
    "tests/test_marks.py": "import pytest\n\n\n@pytest.mark.custom\ndef test_a():\n    pass\n\n\n@pytest.mark.unknown\ndef test_b():\n    pass\n",
    "tools/broken.py": "def broken(:\n",
}


@pytest.mark.parametrize("fix", [False, True], ids=["scan", "apply"])
def test_modules_reached_without_a_plain_name(tmp_path: Path, fix: bool, monkeypatch):
    root = write(tmp_path / "reach", REACH)
    skipped = _assert_same(root, fix, monkeypatch)
    assert skipped == {
        "scripts/clean.py",
        "scripts/unrelated.py",
        "scripts/helpers_only.py",
        "scripts/awaits_names.py",
        "tools/broken.py",
        "tests/test_marks.py",
        "conftest.py",
    }
    if fix:
        return
    (findings, _, _), _, _ = _run(root, fix, True, monkeypatch)
    found = {(f.path, f.rule) for f in findings}
    for expected in [
        ("scripts/run_me.py", "async-context"),
        ("scripts/deep_alias.py", "await-sync"),
        ("scripts/local_only.py", "await-sync"),
        ("scripts/renamed.py", "await-sync"),
        ("scripts/runner.py", "await-sync"),
        ("scripts/aliased.py", "async-context"),
        ("scripts/own_factory.py", "async-context"),
        ("scripts/decorated.py", "async-context"),
        ("scripts/own_class.py", "async-context"),
        ("pkg/uses.py", "await-sync"),
        ("tests/test_marks.py", "pytest-markers"),
    ]:
        assert expected in found


def test_a_broken_file_no_rule_concerns_is_reported_only_when_named(tmp_path: Path):
    root = write(tmp_path / "reach", REACH)
    folder = invoke("scan", "--no-cache", root, cwd=root)
    assert "tools/broken.py" not in folder.stdout
    named = invoke("scan", "--no-cache", root / "tools" / "broken.py", cwd=root)
    assert "tools/broken.py: error: syntax error" in named.stdout


def test_module_words_hold_every_spelling_of_a_module_name():
    text = (
        "from a.b import (\n    c,\n    d as e,\n)\nimport f.g as h\nfrom .i import j\nfrom \\\n  k import l\n"
        "x = m.  # comment\\\n    n\ny = (o.\n     p)\nz = q.r\r\nimport s, \\\r\n    t\r\n"
    )
    words = module_words(text)
    assert set("abcdefghijklnprst") - {"m", "o", "q"} <= words
    assert "m" not in words and "o" not in words and "q" not in words
    assert module_words("x = 1\n", whole=True) == {"x"}
    assert module_key("pkg/sub/__init__.py") == "sub" and module_key("pkg/mod.py") == "mod" and module_key("top.py") == "top"


def test_called_local_and_awaited_words():
    text = "def f(x):\n    class K (Base):\n        pass\n    y = g (x)\n    z += h(\n)\n    return w.v(1)\nasync def u(): pass\n"
    assert called_words(text) == {"g", "h", "v"}
    assert {"f", "K", "y", "z", "u"} <= local_words(text)
    assert local_words("from m import a as b\nwith c() as d:\n    pass\n") >= {"b", "d"}
    def last_names(text: str) -> list[str | None]:
        return [last for _, last in awaited_callees(text)]

    assert last_names("await a.b.c(1)\nawait d ()\n") == ["c", "d"]
    assert last_names("asyncio.run(main())\n") == [None]
    assert last_names("await (yield)\n") == [None]
    # A name awaited without a call is no site, unless a call may follow it after all.
    assert last_names("await x\nawait y[0]()\nrunning = rerun\n") == []
    assert last_names("await x .y()\n(await z  # why\n ())\nawait w\\\n  ()\n") == [None, None, None]
    assert last_names("from asyncio import gather as g\nloop.run_until_complete(f())\n") == [None, None]


def test_awaited_last_names_are_those_of_awaited_callees():
    from codefix.lexical import awaited_last_names

    texts = [
        "await x\nawait y[0]()\nawait x .y()\n(await z  # why\n ())\nawait a.b.\nc()\nawait (f())\nawait g()\n",
        "asyncio.run(main())\nrunning = 1\nfrom asyncio import gather as g\nawait a.b.c(1)\n",
        *(path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.py"))[:300]),
    ]
    assert sum("await" in text for text in texts) > 50
    for text in texts:
        assert awaited_last_names(text) == {last for _, last in awaited_callees(text)}, text[:80]


_FILLER = "".join(f"def filler_{n}(payload):\n    return payload.get({n})\n\n\n" for n in range(12))

#: Files nobody imports, with a planted site among functions no rule needs, and the shapes that
#: tie a site to code elsewhere in the file (each must survive the emptying), or that cut badly.
PARTIAL = {
    "pkg/__init__.py": "",
    "pkg/db.py": (
        "from contextlib import asynccontextmanager\n\n\n@asynccontextmanager\nasync def get_client():\n    yield 1\n"
    ),
    "pkg/ws.py": "def get_manager():\n    return 1\n",
    "scripts/holder.py": (
        "from pkg.db import get_client\n\nCLIENT = get_client()\n\n\n" + _FILLER
        + "def use():\n    return CLIENT.execute('q')\n\n\n" + _FILLER.replace("filler", "more")
    ),
    "scripts/helper.py": (
        "from pkg.ws import get_manager\n\n\n" + _FILLER + "def fetch():\n    return get_manager()\n\n\n"
        + _FILLER.replace("filler", "more") + "async def main():\n    await fetch()\n"
    ),
    "scripts/decorated.py": (
        "from pkg.ws import get_manager\n\n\ndef passthrough(f):\n    return f\n\n\n" + _FILLER
        + "@passthrough\ndef fetch():\n    return 1\n\n\nasync def main():\n    await fetch()\n    await get_manager()\n"
    ),
    "scripts/rebinding.py": (
        "from pkg.ws import get_manager\n\nmanager = None\n\n\n" + _FILLER
        + "def reset():\n    global get_manager\n    get_manager = None\n\n\n"
        + "async def main():\n    await get_manager()\n"
    ),
    "scripts/templates.py": (
        "from pkg.ws import get_manager\n\n\ndef t1():\n    a = \"\"\"\nimport x\n\"\"\"\n    return a\n\n\n" + _FILLER
        + "def t2():\n    b = \"\"\"\nimport y\n\"\"\"\n    return b\n\n\n" + _FILLER.replace("filler", "more")
        + "async def main():\n    await get_manager()\n"
    ),
    # Cut wrongly, what is left parses, but as a string that swallows `main`: the cut must be refused.
    "scripts/swallowed.py": (
        "from pkg.ws import get_manager\n\n\n" + _FILLER + "def t1():\n    return \"\"\"\nimport x\n\"\"\"\n\n\n"
        + "async def main():\n    await get_manager()\n\n\n"
        + "def t2():\n    return \"\"\"\nimport y\n\"\"\"\n\n\n" + _FILLER.replace("filler", "more")
    ),
    "scripts/class_base.py": (
        "from pkg.db import get_client\n\n\n" + _FILLER + "class Base:\n    def __init__(self):\n        self.client = get_client()\n\n\n"
        + _FILLER.replace("filler", "more") + "class Child(Base):\n    def run(self):\n        with self.client as c:\n            return c\n"
    ),
}


@pytest.mark.parametrize("fix", [False, True], ids=["scan", "apply"])
def test_scopes_tied_to_a_site_survive_the_emptying(tmp_path: Path, fix: bool, monkeypatch):
    root = write(tmp_path / "partial", PARTIAL)
    _assert_same(root, fix, monkeypatch)
    _run(root, fix, True, monkeypatch)
    assert {"scripts/holder.py", "scripts/helper.py", "scripts/decorated.py", "scripts/rebinding.py"} <= set(_run.partial)
    # Lines at column 0 inside strings cut the text wrongly: the parse of what is left says so, the whole file is used.
    assert "scripts/templates.py" not in _run.partial and "scripts/swallowed.py" not in _run.partial
    if fix:
        return
    (findings, _, _), _, _ = _run(root, fix, True, monkeypatch)
    found = {(f.path, f.rule) for f in findings}
    assert {
        ("scripts/helper.py", "await-sync"),
        ("scripts/decorated.py", "await-sync"),
        ("scripts/rebinding.py", "await-sync"),
        ("scripts/templates.py", "await-sync"),
        ("scripts/swallowed.py", "await-sync"),
        ("scripts/holder.py", "async-context"),
    } <= found


def test_a_definition_of_a_name_a_rule_looks_up_is_not_emptied():
    from codefix.screening import _unneeded_scopes

    text = (
        "async def handler(ctx):\n    return await get_manager(ctx)\n\n\n"
        "def unrelated(a):\n    b = a + 1\n    c = b * 2\n    return c\n\n\n"
        "def get_manager_async(ctx):\n    x = ctx\n    y = x\n    return y\n\n\n"
        "def another(a):\n    b = a + 1\n    c = b * 2\n    return c\n"
    )
    emptied = _unneeded_scopes(text, {2})
    assert any(first <= 11 <= last for first, last in emptied)  # the premise: without the name, it goes
    kept = _unneeded_scopes(text, {2}, frozenset({"get_manager_async"}))
    assert kept and not any(first <= 11 <= last for first, last in kept)


def _site_function(binding: str) -> str:
    return (
        "async def report(payload):\n    value = payload.get('k')\n"
        f"    {binding}\n    return await get_clickhouse_client()\n\n\n"
    )


_USING = "".join(
    f"def use_{n}(payload):\n    value = payload.get('k{n}')\n    total = value + {n}\n    return self_check(total)\n\n\n"
    for n in range(4)
)


@pytest.mark.parametrize(
    ("binding", "emptied"),
    [
        ("total = value", True),  # a function's own locals: invisible to the other functions
        ("self.total = value", False),  # an attribute: any function spelling `total` may reach it
        ("global total; total = value", False),
    ],
)
def test_only_what_a_function_binds_where_others_see_it_keeps_them(binding: str, emptied: bool):
    """The functions using `payload`, `value` and `total` go unless the site's function binds one of them for all to see."""
    from codefix.screening import _unneeded_scopes

    text = _site_function(binding) + _USING
    unneeded = _unneeded_scopes(text, {4})
    assert bool(unneeded) == emptied
    if emptied:
        assert len(unneeded) == 4 and unneeded[0][0] == 7


def test_a_class_body_binds_for_everyone():
    from codefix.screening import _unneeded_scopes

    text = (
        "class Repo:\n    total = get_clickhouse_client()\n\n\n"
        + _USING
        + "def other(a):\n    b = a\n    return b\n"
    )
    unneeded = _unneeded_scopes(text, {2})
    assert [first for first, _ in unneeded] == [], "every use_ function spells `total`, which the class body binds"


@pytest.mark.parametrize(
    "text", ["a\nb\r\nc\rd\n", "x = f(1)\r\ndef g(): f(2)\n\rf (3)", "\r\n\r\n\r\r\n\n", "\n\r\r\n\na\r\r\n", "no break"]
)
def test_lines_are_counted_as_the_tokenizer_counts_them(text: str):
    from codefix.lexical import calls, calls_of, lines_at
    from codefix.reduction import split_lines

    starts = [0]
    for line in split_lines(text):
        starts.append(starts[-1] + len(line))
    expected = [next(n for n in range(len(starts)) if starts[n] > offset) for offset in range(len(text))]
    for offset in range(len(text)):
        assert list(lines_at(text, [offset])) == [expected[offset]], offset
    # Counted from one offset to the next: every step size, every starting point.
    for step in range(1, 5):
        for first in range(step):
            offsets = list(range(first, len(text), step))
            assert list(lines_at(text, offsets)) == [expected[offset] for offset in offsets], (first, step)
    assert calls_of(text, {"f"}) == [offset for offset, word in calls(text) if word == "f"]


def test_the_words_of_unchanged_files_come_from_the_cache(tmp_path: Path, monkeypatch):
    from codefix.engine import RunOptions, load_project

    root = write(tmp_path / "cached", {**REACH, "tools/broken.py": "x = 1\n"})
    read: list[str] = []
    original = screening._words_of

    def counting(file: str):
        read.append(Path(file).name)
        return original(file)

    monkeypatch.setattr(screening, "_words_of", counting)
    options = RunOptions(paths=(root,), use_cache=True, jobs=1)
    load_project(options)
    assert len(read) == len(REACH) - 1  # every Python file, once
    read.clear()
    load_project(options)
    assert read == []
    (root / "scripts" / "clean.py").write_text("import asyncio\n\n\nasync def main():\n    await asyncio.sleep(1)\n")
    load_project(options)
    assert read == ["clean.py"]


def test_an_edit_that_starts_importing_a_module_is_seen_through_the_cache(tmp_path: Path):
    root = write(
        tmp_path / "edited",
        {
            "pyproject.toml": "",
            "lib.py": "def helper():\n    return 1\n",
            "app.py": "async def main():\n    return 1\n",
        },
    )
    assert "await-sync" not in invoke("scan", ".", cwd=root).stdout
    (root / "app.py").write_text("from lib import helper\n\n\nasync def main():\n    return await helper()\n")
    cached = invoke("scan", ".", cwd=root)
    assert "app.py:5:12: await-sync" in cached.stdout
    assert cached.stdout == invoke("scan", ".", "--no-cache", cwd=root).stdout


EDGE_BINDINGS = (
    "x: int = 3\nundef y\na==b\nc <= d\ne <f\ncafé = 1\ndef  g(h): pass\nclass\tK: pass\nimport m as n\n"
    "p.q = r\ns[t] = u\nv, w = 1, 2\nz :=3\nlambda aa=1: aa\nbb //= 2\ncc\n=\ndd\\\n= 1\n"
)


def test_binds_is_membership_of_local_words():
    from codefix.lexical import WORD, binds

    texts = [EDGE_BINDINGS, *(path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.py"))[:150])]
    asked = 0
    for text in texts:
        bound = local_words(text)
        for word in set(WORD.findall(text)) | {"missing"}:
            assert binds(text, word) == (word in bound), (word, text[:80])
            asked += 1
    assert asked > 2000
    assert binds(EDGE_BINDINGS, "int") and binds(EDGE_BINDINGS, "café") and not binds(EDGE_BINDINGS, "x")


def test_split_lines_breaks_where_the_tokenizer_does_whichever_way_it_splits():
    import random

    from codefix.lexical import _LINE, split_lines

    pieces = ["a", "\n", "\r", "\r\n", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "é", "x y", "\t"]
    generator = random.Random(3)
    texts = ["".join(generator.choice(pieces) for _ in range(generator.randint(0, 20))) for _ in range(3000)]
    assert any("\x0c" in text for text in texts) and any("\x0c" not in text and "\x85" not in text for text in texts)
    for text in texts:
        assert split_lines(text) == _LINE.findall(text), repr(text)


def test_word_offsets_are_the_whole_word_matches_of_one_pattern():
    import random
    import re

    from codefix.lexical import WORD, word_offsets

    generator = random.Random(5)
    texts = [EDGE_BINDINGS, *(path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.py"))[:120])]
    for text in texts:
        vocabulary = sorted(set(WORD.findall(text))) or ["x"]
        for count in (1, 3, 30):  # one search per word, and one for them all
            words = generator.sample(vocabulary, min(count, len(vocabulary))) + ["café", "a.b"]
            pattern = re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")(?!\w)")
            assert word_offsets(text, words) == [match.start() for match in pattern.finditer(text)], (words, text[:60])


LISTED_FACTORY = {
    "pyproject.toml": '[tool.codefix.clickhouse-async]\nfactories = ["make_warehouse"]\n',
    "pkg/__init__.py": "",
    "pkg/db.py": (
        "from contextlib import asynccontextmanager\n\n\n@asynccontextmanager\nasync def _session():\n"
        "    yield object()\n\n\n@asynccontextmanager\nasync def get_clickhouse_client():\n    yield object()\n\n\n"
        "def make_warehouse():\n    return _session()\n"
    ),
    "scripts/use.py": "from pkg.db import make_warehouse\n\n\nasync def main():\n    client = await make_warehouse()\n    return client\n",
}


def test_a_rule_the_generalizing_rule_does_not_cover_still_screens_its_files(tmp_path: Path, monkeypatch):
    """A factory listed for clickhouse-async alone is no trigger of async-context: its own probe must look."""
    root = write(tmp_path / "listed", LISTED_FACTORY)
    _assert_same(root, False, monkeypatch)
    (findings, _, _), _, skipped = _run(root, False, True, monkeypatch)
    assert "scripts/use.py" not in skipped
    assert [(f.path, f.line, f.rule) for f in findings] == [("scripts/use.py", 5, "clickhouse-async")]


def _prepared_on(root: Path, rules: list) -> list:
    """`rules`, prepared on the full index of every file under `root`, as the screening's probes are."""
    from codefix.index import IndexBuilder
    from codefix.resolution import Resolver

    builder = IndexBuilder(root, sorted(map(str, root.rglob("*.py"))), [], False, 1, None)
    builder.add(builder.files)
    index = builder.finish()
    for rule in rules:
        rule.prepare(index, Resolver(index))
    return rules


def test_a_rule_checking_client_methods_is_covered_only_by_one_checking_as_many(tmp_path: Path):
    """async-context's words hold clickhouse-async's, yet it proves more calls entered correctly.

    It does not look for un-awaited client methods, so `async with f() as
    client:` is no concern of its own whatever the body does: the screening
    asks both rules. A clickhouse-async checking more methods covers one
    checking fewer.
    """
    from codefix.lexical import ScreenedText
    from codefix.rules.async_context import AsyncContext
    from codefix.rules.clickhouse_async import ClickhouseAsync

    plain = write(tmp_path / "plain", {**LISTED_FACTORY, "pyproject.toml": ""})
    narrow, general, fewer = _prepared_on(plain, [ClickhouseAsync({}), AsyncContext(), ClickhouseAsync({"async_methods": ["execute"]})])
    assert narrow.trigger_words == {"get_clickhouse_client"} <= general.trigger_words
    text = (
        "from pkg.db import get_clickhouse_client\n\n\nasync def main():\n"
        "    async with get_clickhouse_client() as client:\n        client.query('q')\n"
    )
    assert narrow.concern_lines(ScreenedText(text)) == {5}
    assert general.concern_lines(ScreenedText(text)) == set()
    assert fewer.concern_lines(ScreenedText(text)) == set()  # `query` is not one of its methods
    assert screening._uncovered([narrow, general]) == [narrow, general]
    assert fewer.concerns_covered_by(narrow) and not narrow.concerns_covered_by(fewer)
    assert screening._uncovered([fewer, narrow, general]) == [narrow, general]
    narrow, general = _prepared_on(write(tmp_path / "listed", LISTED_FACTORY), [ClickhouseAsync({"factories": ["make_warehouse"]}), AsyncContext()])
    assert "make_warehouse" in narrow.trigger_words - general.trigger_words
    assert screening._uncovered([narrow, general]) == [narrow, general]


WEBSOCKET_SCRIPT = {
    "pkg/__init__.py": "",
    "pkg/ws.py": "def get_websocket_manager():\n    return object()\n\n\ndef helper():\n    return 1\n",
    "scripts/use.py": (
        "from pkg.ws import get_websocket_manager\nfrom wsvendor import connect_sync\n\n\n"
        "async def main():\n    await connect_sync()\n    return await get_websocket_manager()\n"
    ),
}


def _prepared_awaited_rules(root: Path, settings: dict) -> list:
    from codefix.rules.await_sync import AwaitSync
    from codefix.rules.await_websocket import AwaitWebsocket

    return _prepared_on(root, [AwaitWebsocket(settings), AwaitSync()])


def test_await_sync_covers_await_websocket_when_its_names_are_project_functions(tmp_path: Path):
    """The default name is a synchronous def of the project: await-sync's look holds await-websocket's lines."""
    narrow, general = _prepared_awaited_rules(write(tmp_path / "plain", WEBSOCKET_SCRIPT), {})
    assert narrow.candidate_names() == {"get_websocket_manager"} <= general.candidate_names()
    assert screening._uncovered([narrow, general]) == [general]
    assert not general.concerns_covered_by(narrow), "await-sync has more names than await-websocket"


def test_a_configured_name_outside_the_project_keeps_await_websockets_own_look(tmp_path: Path, monkeypatch):
    """`wsvendor.connect_sync` is no function of the project: await-sync knows nothing of it."""
    config = '[tool.codefix.await-websocket]\nfunctions = ["get_websocket_manager", "wsvendor.connect_sync"]\n'
    root = write(tmp_path / "vendor", {**WEBSOCKET_SCRIPT, "pyproject.toml": config})
    narrow, general = _prepared_awaited_rules(root, {"functions": ["get_websocket_manager", "wsvendor.connect_sync"]})
    assert "connect_sync" in narrow.candidate_names() - general.candidate_names()
    assert screening._uncovered([narrow, general]) == [narrow, general]
    _assert_same(root, False, monkeypatch)
    (findings, _, _), _, skipped = _run(root, False, True, monkeypatch)
    assert "scripts/use.py" not in skipped
    assert [(f.line, f.rule) for f in findings if f.path == "scripts/use.py"] == [
        (6, "await-websocket"),
        (7, "await-websocket"),
    ]


def test_entries_the_screening_builds_are_the_indexs_own(corpus: Path, monkeypatch):
    """A file's entry made while screening it is what indexing the same lines would make."""
    from codefix.engine import plan_project
    from codefix.index import IndexBuilder, _index_job

    monkeypatch.setattr(screening, "SCREEN", True)
    options = RunOptions(paths=(corpus,), use_cache=False, jobs=1)
    project = load_project(options)
    builder = IndexBuilder(project.root, plan_project(options).file_texts, use_cache=False)
    assert project.index.partial, "files with a planted bug hold many functions no rule needs"
    for relative, unneeded in project.index.partial.items():
        path = project.root / relative
        _, _, digest, entry, left_out = _index_job((path, relative, builder.module_name(str(path)), unneeded))
        assert (digest, left_out) == ("", unneeded), relative
        assert entry == project.index.module_at(relative), relative


def test_the_marker_scan_reads_only_the_files_the_screening_saw_spell_mark(corpus: Path, monkeypatch):
    """pytest-markers reads no file the screening read without "mark"; it finds what it finds reading all."""
    from codefix.rules import pytest_markers

    read: list[Path] = []
    real_scan_file = pytest_markers.scan_file

    def recording_scan_file(path: Path, registered=None):
        read.append(path)
        return real_scan_file(path, registered)

    monkeypatch.setattr(pytest_markers, "scan_file", recording_scan_file)
    monkeypatch.setattr(screening, "SCREEN", True)
    options = RunOptions(paths=(corpus,), use_cache=False, jobs=1, rules=("pytest-markers",))
    project = load_project(options)
    assert project.needles is not None
    with_sightings = run(options, project)
    spelling = {path for path in project.targets if "mark" in path.read_text()}
    assert set(read) == spelling and 0 < len(spelling) < len(project.targets)
    read.clear()
    project.needles = None
    without = run(options, project)
    assert set(read) == set(project.targets)
    assert with_sightings.findings == without.findings and with_sightings.findings
    assert with_sightings.errors == without.errors


def test_needle_sightings_come_back_from_the_words_cache(corpus: Path, monkeypatch):
    monkeypatch.setattr(screening, "SCREEN", True)
    options = RunOptions(paths=(corpus,), use_cache=True, jobs=1)
    first = load_project(options).needles
    monkeypatch.setattr(screening, "_words_of", lambda path: pytest.fail(f"{path} read again"))
    again = load_project(options).needles
    assert first == again and first.holding["mark"]


def _renamings_read_forwards(text: str) -> list[tuple[int, str]]:
    """What `renamed_words` means, read the slow way: from the end, each `as` that is a whole word after
    blanks or backslashes, and the whole word before those; what one finding spans is not searched again."""
    found: list[tuple[int, str]] = []
    at = len(text)
    while True:
        at = text.rfind("as", 0, at)
        if at < 0:
            return found
        after = text[at + 2 : at + 3]
        gap = at
        while gap > 0 and (text[gap - 1].isspace() or text[gap - 1] == "\\"):
            gap -= 1
        start = gap
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        if (after.isalnum() or after == "_") or gap == at or start == gap:
            at = at + 1  # `as` starting a longer word, or no blank, or no word before: look further back
            continue
        found.append((start, text[start:gap]))
        at = start


@pytest.mark.parametrize(
    "text",
    [
        "from m import f as g\nimport a.b as c\n",
        "    async def f():\n        assert x\nwith open(p) as h, q() as (r):\n    pass\n",
        "from m import (\n    f\n    as g,\n    k as\\\n l)\nexcept E as e:\n",
        "x = alias as_ as  as\n\tas\nclass Base: pass\n",
        "",
        "as",
    ],
)
def test_renamed_words_are_the_words_before_a_whole_word_as(text: str):
    from codefix.lexical import renamed_words

    assert renamed_words(text) == _renamings_read_forwards(text)


def test_renamed_words_of_every_fixture_match_the_slow_reading():
    from codefix.lexical import renamed_words

    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.py"))]
    assert sum(" as " in text for text in texts) > 20
    for text in texts:
        assert renamed_words(text) == _renamings_read_forwards(text), text[:80]
    # `async` and `assert` start with "as" after blanks: none of them is a renaming.
    assert renamed_words("x = 1\n    async def f():\n        assert g\n") == []


def test_screened_text_answers_as_the_functions_do():
    from codefix.lexical import (
        ScreenedText,
        awaited_last_names,
        called_words,
        calls_of,
        renamed_words,
    )

    for path in sorted(FIXTURES.rglob("*.py"))[:200]:
        text = path.read_text(encoding="utf-8", errors="replace")
        screened = ScreenedText(text)
        assert screened.reversed == text[::-1]
        assert screened.renamed_words == renamed_words(text)
        assert screened.called_words == called_words(text)
        assert screened.awaited_last_names == awaited_last_names(text)
        words = sorted(called_words(text))[:3]
        assert calls_of(text, words, screened.reversed) == calls_of(text, words)
