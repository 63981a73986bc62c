"""The async-context prefilters walk only the statements that spell the names in question.

`_ShapeFilter.may_report` and `site_lines` (rules/_async_context_core.py)
look only at top-level statements whose lines spell a target, a callee's
head or a holder (`pyast.lines_spelling`). The oracle is the same question
asked of every node of the tree, as the code did before: on the fixture
trees and a generated monorepo, with the targets the rules really prepare
there, the answers must be equal (`may_report`) and the lines a superset
(`site_lines`).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from codefix import pyast
from codefix.types import FileError
from codefix import engine
from codefix.engine import FileAnalysis, RunOptions, load_project
from codefix.lexical import calls_any
from codefix.rules._async_context_core import (
    AsyncContextRule,
    _entered_with_async,
    _external_only_names,
    _head_name,
    _is_parameter,
    _last_name,
    _names_bound_to,
    _ShapeFilter,
    _unawaited_method_call,
)
from conftest import copy_tree, generated_corpus

FIXTURES = Path(__file__).parent / "fixtures"


def reference_may_report(shape: _ShapeFilter, text: str) -> bool:
    tree = ast.parse(text)
    gathered = pyast.TreeFacts(tree)
    parents = gathered.parents
    calls = [(call, shape.word_targets[word]) for word in shape.word_targets for call in gathered.calls.get(word, ())]
    if not calls:
        return False
    external = _external_only_names(ast.walk(tree), shape.is_project_module)
    holders = defaultdict(set)
    clients = set()
    for call, targets in calls:
        head = _head_name(call.func)
        if head is None or head in external or _is_parameter(head, call, parents):
            continue
        parent = parents.get(call)
        if _entered_with_async(call, parent, parents):
            if shape.async_methods is not None and isinstance(parent.optional_vars, ast.Name):
                clients.add(parent.optional_vars.id)
            continue
        if shape.async_methods is not None or any(not target.is_class for target in targets):
            return True
        if shape._misused(parent, call, targets, parents):
            return True
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is call:
            for target in parent.targets if isinstance(parent, ast.Assign) else [parent.target]:
                name = _last_name(target)
                if name:
                    holders[name] |= targets
    return any(
        shape._misused(parents.get(node), node, targets, parents)
        for name, targets in holders.items()
        for node in gathered.names.get(name, ())
    ) or any(
        _unawaited_method_call(node, shape.async_methods or frozenset(), parents)
        for name in clients
        for node in gathered.names.get(name, ())
    )


def reference_site_lines(shape: _ShapeFilter, text: str) -> set[int]:
    gathered = pyast.TreeFacts(ast.parse(text))
    lines: set[int] = set()
    holders: set[str] = set()
    for word in shape.word_targets:
        for call in gathered.calls.get(word, ()):
            lines.add(call.lineno)
            holders.update(_names_bound_to(call, gathered.parents))
    for name in holders:
        lines.update(node.lineno for node in gathered.names.get(name, ()))
    return lines


def _generated(tmp_path: Path) -> Path:
    generated_corpus(tmp_path / "corpus", 80, seed=3, largest=20)
    return tmp_path / "corpus"


@pytest.mark.parametrize("tree", ["clickhouse_async/before", "generated"])
def test_restricted_walks_answer_as_the_whole_tree_does(tree: str, tmp_path: Path):
    root = _generated(tmp_path) if tree == "generated" else copy_tree(FIXTURES / tree, tmp_path / "project")
    options = RunOptions(paths=(root,), rules=("clickhouse-async", "async-context"), use_cache=False)
    project = load_project(options)
    compared = reported = 0
    for rule in project.rules:
        assert isinstance(rule, AsyncContextRule)
        shape = _ShapeFilter(rule.word_targets, rule._checked_methods, rule._is_project_module)
        for path in project.targets:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
            try:
                expected = reference_may_report(shape, text)
            except SyntaxError:
                continue
            assert shape.may_report(text) == expected, path
            assert reference_site_lines(shape, text) <= shape.site_lines(pyast.parse(text), text), path
            compared += 1
            reported += expected
    assert compared > 20 and reported > 3


def test_lines_spelling_finds_whole_words_only_and_statements_on_maps_them():
    text = "import a\n\n\n@deco\ndef f():\n    client = make()\n    return client.go\n\n\nclients = 1\n"
    assert pyast.lines_spelling(text, ["client"]) == {6, 7}
    assert pyast.lines_spelling(text, ["deco", "clients"]) == {4, 10}
    tree = ast.parse(text)
    assert [s.lineno for s in pyast.statements_on(tree, {4, 7, 8, 10})] == [5, 10]


def _modules_to_walk() -> list[Path]:
    import asyncio
    import email
    import json

    modules = sorted(Path(asyncio.__file__).parent.glob("*.py"))[:12]
    modules += sorted(Path(email.__file__).parent.glob("*.py"))[:8] + sorted(Path(json.__file__).parent.glob("*.py"))
    return [*modules, *sorted(FIXTURES.rglob("*.py"))[:60]]


def test_nodes_on_gives_every_node_on_the_lines_with_its_parents():
    """Every node whose lines hold a wanted line, each with the parent a full walk gives it; and nothing outside the statements holding them."""
    import random

    chooser = random.Random(5)
    checked = 0
    for path in _modules_to_walk():
        try:
            text = path.read_text(encoding="utf-8-sig")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError):
            continue  # the fixtures' broken files
        whole = pyast.TreeFacts(tree)
        count = text.count("\n") + 1
        for size in (1, 3, 12):
            lines = set(chooser.sample(range(1, count + 1), min(size, count)))
            given = dict((id(node), parent) for node, parent in pyast.nodes_on(tree, lines))
            roots = pyast.statements_on(tree, lines)
            inside = {id(node) for root in roots for node in ast.walk(root)}
            assert set(given) <= inside
            for root in roots:
                for node in ast.walk(root):
                    first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
                    if first is not None and any(first <= line <= (last or first) for line in lines):
                        assert id(node) in given, (path.name, lines, ast.dump(node)[:80])
                        expected = whole.parents.get(node) if node not in roots else None
                        assert given[id(node)] is expected, (path.name, lines, ast.dump(node)[:80])
                        checked += 1
    assert checked > 2000


def test_nodes_on_enters_only_the_blocks_holding_the_lines():
    text = "def f(a):\n    x = 1\n    if a:\n        y = call(a)\n    else:\n        z = 2\n    return x\n"
    tree = ast.parse(text)
    names = {node.id for node, _ in pyast.nodes_on(tree, {4}) if isinstance(node, ast.Name)}
    assert names == {"a", "y", "call"}  # the if's test, and line 4; not x, z or the return
    facts = pyast.TreeFacts(tree, lines={4})
    call = facts.calls["call"][0]
    chain = []
    node = call
    while node in facts.parents:
        node = facts.parents[node]
        chain.append(type(node).__name__)
    assert chain == ["Assign", "If", "FunctionDef"]


HOLDER_PROJECT = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
    "app/__init__.py": "",
    "app/pool.py": "class Pool:\n    async def __aenter__(self):\n        return self\n\n    async def __aexit__(self, *exc):\n        return None\n",
    "app/use.py": (
        "from app.pool import Pool\n\n\n"
        "def make():\n    pool = Pool()\n    return pool\n\n\n"
        + "".join(f"def pad_{n}():\n    return {n}\n\n\n" for n in range(5))
        + "def run(pool):\n    with pool:\n        pass\n"
    ),
    "app/clean.py": "from app.pool import Pool\n\n\nasync def main():\n    async with Pool() as pool:\n        return pool\n",
}


def test_a_holder_misused_far_from_the_call_is_seen(tmp_path: Path):
    from conftest import write

    root = write(tmp_path / "project", HOLDER_PROJECT)
    project = load_project(RunOptions(paths=(root,), rules=("async-context",), use_cache=False))
    (rule,) = project.rules
    shape = _ShapeFilter(rule.word_targets, rule._checked_methods, rule._is_project_module)
    use = (root / "app/use.py").read_text()
    clean = (root / "app/clean.py").read_text()
    assert reference_may_report(shape, use) and shape.may_report(use)
    assert not reference_may_report(shape, clean) and not shape.may_report(clean)
    assert {5, 6, 29, 30} <= shape.site_lines(pyast.parse(use), use)


CLIENT_PROJECT = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
    "app/__init__.py": "",
    "app/db.py": (
        "from contextlib import asynccontextmanager\n\n\n"
        "@asynccontextmanager\nasync def get_clickhouse_client():\n    yield object()\n"
    ),
    "app/good.py": (
        "from app.db import get_clickhouse_client as ch\n\n\n"
        "async def run():\n    async with ch() as client:\n        rows = await client.execute('q')\n    return rows\n"
    ),
    "app/unawaited.py": (
        "from app.db import get_clickhouse_client as ch\n\n\n"
        "async def run():\n    async with ch() as client:\n        client.execute('q')\n"
    ),
    "app/assigned.py": (
        "from app.db import get_clickhouse_client\n\n\n"
        "async def run():\n    async with get_clickhouse_client() as client:\n        rows = client.query('q')\n    return rows\n"
    ),
    "app/awaited.py": "from app.db import get_clickhouse_client\n\n\nasync def run():\n    return await get_clickhouse_client()\n",
}


def _reports_of_the_whole_file(project, rule: AsyncContextRule, path: Path, text: str) -> list:
    analysis = FileAnalysis(project, path, [rule])
    searched = analysis.find(text, text, [rule], project.index.module_at(analysis.relative))
    assert not isinstance(searched, FileError), searched
    return searched[2]


@pytest.mark.parametrize("tree", ["clickhouse_async/before", "generated", "clients"])
def test_a_file_the_shape_filter_clears_gets_no_report_from_the_analysis(tree: str, tmp_path: Path, monkeypatch):
    """Soundness, against the analysis itself: a file whose calls `may_report` rules out has no finding of the rule.

    And the filter does clear files that call a target (entered with `async
    with`, in the generated tree), so the check is not vacuous.
    """
    from conftest import write

    monkeypatch.setattr(engine, "REDUCE", False)
    if tree == "generated":
        root = _generated(tmp_path)
    elif tree == "clients":
        root = write(tmp_path / "project", CLIENT_PROJECT)
    else:
        root = copy_tree(FIXTURES / tree, tmp_path / "project")
    project = load_project(RunOptions(paths=(root,), rules=("clickhouse-async", "async-context"), use_cache=False))
    cleared = reported = 0
    for rule in project.rules:
        assert isinstance(rule, AsyncContextRule)
        for path in project.targets:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
            if not calls_any(text, rule.trigger_words):
                continue
            found = _reports_of_the_whole_file(project, rule, path, text)
            if not rule.might_match(text):
                assert found == [], (rule.id, path)
                cleared += 1
            reported += bool(found)
    assert reported > 1
    if tree != "clickhouse_async/before":
        assert cleared > 1


def test_an_entered_client_is_looked_into_only_for_its_unawaited_coroutine_methods(tmp_path: Path):
    from conftest import write

    root = write(tmp_path / "project", CLIENT_PROJECT)
    project = load_project(RunOptions(paths=(root,), rules=("clickhouse-async", "async-context"), use_cache=False))
    checks = {rule.id: rule for rule in project.rules}
    text = {name: (root / "app" / f"{name}.py").read_text() for name in ("good", "unawaited", "assigned", "awaited")}
    clickhouse, generic = checks["clickhouse-async"], checks["async-context"]
    assert [clickhouse.might_match(text[name]) for name in text] == [False, True, True, True]
    assert [generic.might_match(text[name]) for name in text] == [False, False, False, True]
