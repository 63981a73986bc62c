"""Reduced copies for LibCST (reduction.py): same findings, same fixes, kept lines untouched.

The oracle is codefix itself with reduction off: every fixture tree, every
rule example and a generated monorepo give the same findings and the same
rewritten bytes either way, with reduction forced on for every file where it
blanks anything at all.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from codefix import engine, parallel, reduction
from codefix.engine import RunOptions, load_project, run
from libcst.metadata import CodePosition, CodeRange

from codefix.reduction import MappedPositions, Reduced, reduce_source, splice_back, split_lines
from codefix.rules import ALL_RULES
from codefix.rules.base import ProjectRule
from conftest import copy_tree, generated_corpus, write

FIXTURES = Path(__file__).parent / "fixtures"
FILE_RULES = tuple(rule.id for rule in ALL_RULES if not issubclass(rule, ProjectRule))


def reduce(text: str, sites: set[int]) -> Reduced | None:
    return reduce_source(text, ast.parse(text), sites)


SOURCE = '''import asyncio
from app import get_manager


def unrelated(a):
    """Long and of no interest."""
    x = a + 1
    return x


def mentioned(a):
    y = a * 2
    return y


class Service:
    limit = 3

    def helper(self):
        y = 1
        return y

    async def handler(self):
        return await get_manager(mentioned(1))


async def other():
    await asyncio.sleep(0)
    return 2
'''


@pytest.fixture
def always_reduce(monkeypatch):
    monkeypatch.setattr(reduction, "WORTHWHILE_SHARE", 1.0)


def _kept_lines_are_the_files(original: str, reduced: Reduced) -> None:
    before, after = split_lines(original), split_lines(reduced.text)
    assert len(after) == len(reduced.original_lines)
    assert list(reduced.original_lines) == sorted(set(reduced.original_lines))
    for line, number in zip(after, reduced.original_lines):
        assert line == before[number - 1] or line.strip() == "pass"


def test_unmentioned_functions_go_mentioned_ones_are_hollowed_and_kept_lines_keep_their_text(always_reduce):
    reduced = reduce(SOURCE, {24})
    assert reduced is not None
    _kept_lines_are_the_files(SOURCE, reduced)
    ast.parse(reduced.text)
    assert "unrelated" not in reduced.text and "def helper" not in reduced.text and "other" not in reduced.text
    assert "def mentioned(a):\n    pass\n" in reduced.text
    assert "    async def handler(self):\n        return await get_manager(mentioned(1))\n" in reduced.text
    site = split_lines(reduced.text).index("        return await get_manager(mentioned(1))\n")
    assert reduced.original_lines[site] == 24


def test_a_name_a_rule_looks_up_keeps_its_definition_as_if_kept_code_spelled_it(always_reduce):
    reduced = reduce_source(SOURCE, ast.parse(SOURCE), {24}, looked_up=frozenset({"other"}))
    assert reduced is not None
    assert "async def other():\n    pass\n" in reduced.text
    assert "unrelated" not in reduced.text


def _edited(lines: list[str], at: int, count: int, new: list[str]) -> list[str]:
    return lines[:at] + new + lines[at + count :]


def test_a_changed_line_of_the_copy_goes_back_to_its_line_of_the_file(always_reduce):
    reduced = reduce(SOURCE, {24})
    copy = split_lines(reduced.text)
    site = copy.index("        return await get_manager(mentioned(1))\n")
    rewritten = _edited(copy, site, 1, ["        return get_manager(mentioned(1))\n"])
    text, new = splice_back(SOURCE, reduced, "".join(rewritten))
    assert text == SOURCE.replace("return await get_manager", "return get_manager")
    assert new == Reduced("".join(rewritten), reduced.original_lines)


def test_inserted_lines_shift_the_numbers_of_the_lines_after_them(always_reduce):
    reduced = reduce(SOURCE, {24})
    copy = split_lines(reduced.text)
    after_imports = copy.index("from app import get_manager\n") + 1
    rewritten = _edited(copy, after_imports, 0, ["from app import get_manager_async\n"])
    text, new = splice_back(SOURCE, reduced, "".join(rewritten))
    assert text == SOURCE.replace("from app import get_manager\n", "from app import get_manager\nfrom app import get_manager_async\n")
    file_lines = split_lines(text)
    for line, number in zip(split_lines(new.text), new.original_lines):
        assert line == file_lines[number - 1] or line.strip() == "pass"
    assert new.original_lines[after_imports] == 3


def test_a_change_reaching_a_stand_in_or_a_left_out_place_is_refused(always_reduce):
    reduced = reduce(SOURCE, {24})
    copy = split_lines(reduced.text)
    stand_in = copy.index("    pass\n")  # the body of `mentioned`
    assert splice_back(SOURCE, reduced, "".join(_edited(copy, stand_in, 1, ["    return 0\n"]))) is None
    # Between `class Service:` ... `limit = 3` and `async def handler` the copy left `helper` out.
    handler = copy.index("    async def handler(self):\n")
    assert reduced.original_lines[handler] != reduced.original_lines[handler - 1] + 1
    assert splice_back(SOURCE, reduced, "".join(_edited(copy, handler, 0, ["    x = 1\n"]))) is None
    assert splice_back(SOURCE, reduced, "".join(_edited(copy, handler - 1, 2, ["    y = 2\n"]))) is None


def test_splicing_is_editing_the_file_at_the_lines_the_copy_maps(always_reduce):
    """Random edits of the copy's own lines land where editing the file directly puts them."""
    rng = random.Random(5)
    for text in (SOURCE, SOURCE.replace("\n", "\r\n")):
        reduced = reduce(text, {24})
        copy = split_lines(reduced.text)
        lines = split_lines(text)
        own = [k for k, line in enumerate(copy) if line == lines[reduced.original_lines[k] - 1]]
        for edit in range(300):
            at = rng.choice(own)
            count = rng.choice([0, 1])
            # Lines of their own, so that the diff cannot place them anywhere else.
            new = [f"    x = {edit}_{n}\n" for n in range(rng.randint(1, 3))]
            spliced = splice_back(text, reduced, "".join(_edited(copy, at, count, new)))
            if count == 0 and at > 0 and reduced.original_lines[at] != reduced.original_lines[at - 1] + 1:
                assert spliced is None  # an insertion next to a left-out stretch
                continue
            assert spliced is not None
            number = reduced.original_lines[at]
            assert spliced[0] == "".join(_edited(lines, number - 1, count, new))
            file_lines = split_lines(spliced[0])
            for line, number in zip(split_lines(spliced[1].text), spliced[1].original_lines):
                assert line == file_lines[number - 1] or line.strip() == "pass"


def test_a_file_mostly_kept_is_not_worth_reducing():
    # Each statement of g binds what the next one uses, up to the site: all of g stays.
    small = "def f():\n    a = 1\n    return a\n\n\nasync def g():\n    b = f\n    c = b\n    d = c\n    e = d\n    return await e()\n"
    assert reduce(small, {11}) is None


def test_a_function_rebinding_a_global_is_kept_whole(always_reduce):
    text = "x = 1\n\n\ndef set_x():\n    global x\n    x = 2\n    return x\n\n\nasync def f():\n    return await x()\n"
    assert reduce(text, {11}) is None  # nothing else to leave out


def test_line_endings_are_kept_and_form_feeds_are_not_line_breaks(always_reduce):
    text = "def f():\r\n    a = 1\r\n    b = '\x0c'\r\n    return a\r\n\r\nasync def g():\r\n    return await f()\r\n"
    reduced = reduce(text, {7})
    assert reduced == Reduced("def f():\r\n    pass\r\nasync def g():\r\n    return await f()\r\n", (1, 2, 6, 7))


def test_a_body_on_the_header_line_is_left_alone_and_decorators_go_with_their_function(always_reduce):
    text = "import d\n\n\ndef f(): return 1\n\n\n@d.register\ndef g():\n    return 2\n\n\nasync def h():\n    await f()\n"
    reduced = reduce(text, {13})
    assert reduced is not None
    assert reduced.text == "import d\n\n\ndef f(): return 1\n\n\nasync def h():\n    await f()\n"
    ast.parse(reduced.text)


def test_functions_in_module_level_blocks_are_hollowed_not_dropped(always_reduce):
    text = "try:\n    def f():\n        a = 1\n        return a\nexcept ImportError:\n    pass\n\n\nasync def g():\n    return await f()\n"
    reduced = reduce(text, {10})
    assert reduced is not None and "    def f():\n        pass\n" in reduced.text
    ast.parse(reduced.text)


THINNED = '''from app import get_manager


async def handler(payload):
    """Long, and mostly about something else."""
    size = len(payload)
    label = f"{size} items"
    factory = pick(get_manager)
    alias = factory
    for item in payload:
        size += item
    try:
        manager = await alias(label)
    except TypeError:
        size = 0
    else:
        log("fine")
    if payload:
        unrelated = 1

        def helper():
            return unrelated
    done = True
    return manager
'''


def test_a_function_holding_a_site_keeps_what_the_site_spells_and_what_follows_it(always_reduce):
    """The site's words and, in turn, the words of what binds them; the block around it; the rest of its block."""
    reduced = reduce(THINNED, {13})
    assert reduced is not None
    _kept_lines_are_the_files(THINNED, reduced)
    ast.parse(reduced.text)
    assert reduced.text == (
        "from app import get_manager\n\n\nasync def handler(payload):\n"
        "    size = len(payload)\n"  # binds `size`, which the site's `label` needs in turn
        "    label = f\"{size} items\"\n"
        "    factory = pick(get_manager)\n"
        "    alias = factory\n"
        "    for item in payload:\n"  # rebinds `size`
        "        size += item\n"
        "    try:\n        manager = await alias(label)\n"
        "    except TypeError:\n        size = 0\n"
        "    else:\n        pass\n"  # a block left empty keeps a `pass`
        "    if payload:\n"  # after the site's statement: kept for the shape of the block a fix may move
        "        unrelated = 1\n\n        def helper():\n            return unrelated\n"
        "    done = True\n    return manager\n"
    )
    lines = split_lines(reduced.text)
    assert reduced.original_lines[lines.index("        manager = await alias(label)\n")] == 13
    assert "\"\"\"Long" not in reduced.text


def test_statements_sharing_a_line_stay_together(always_reduce):
    text = "async def f(a):\n    x = 1; y = 2\n    z = 3\n    return await g(a)\n\n\ndef other():\n    return 1\n"
    reduced = reduce(text, {4})
    assert reduced is not None
    assert reduced.text == "async def f(a):\n    x = 1; y = 2\n    z = 3\n    return await g(a)\n\n\n"
    ast.parse(reduced.text)


def test_positions_are_told_in_the_files_lines():
    positions = {"node": CodeRange(CodePosition(2, 4), CodePosition(3, 1))}
    mapped = MappedPositions(positions, (1, 7, 9))
    assert mapped["node"] == CodeRange(CodePosition(7, 4), CodePosition(9, 1))


def test_nothing_to_leave_out_gives_none(always_reduce):
    assert reduce("async def f():\n    await g()\n", {2}) is None


def _scan_and_apply(root: Path, rules: tuple[str, ...]) -> tuple[tuple, tuple]:
    options = RunOptions(paths=(root,), rules=rules, fix=False, use_cache=False)
    scanned = run(options, load_project(options))
    fixing = RunOptions(paths=(root,), rules=rules, fix=True, use_cache=False)
    fixed = run(fixing, load_project(fixing))
    return (scanned.findings, scanned.errors), (fixed.findings, tuple((c.path, c.after) for c in fixed.changes))


def _same_with_and_without_reduction(root: Path, rules: tuple[str, ...], monkeypatch) -> tuple[tuple, tuple]:
    """Scan and apply with reduction off, then on; they must agree. Returns the outcome without it."""
    monkeypatch.setattr(engine, "REDUCE", False)
    whole = _scan_and_apply(root, rules)
    monkeypatch.setattr(engine, "REDUCE", True)
    assert _scan_and_apply(root, rules) == whole
    return whole


def _scan(root: Path, rules: tuple[str, ...]) -> tuple:
    options = RunOptions(paths=(root,), rules=rules, fix=False, use_cache=False)
    scanned = run(options, load_project(options))
    return scanned.findings, scanned.errors


def _trees() -> list[Path]:
    return [
        FIXTURES / "await_websocket" / "before",
        FIXTURES / "await_websocket" / "replacement",
        FIXTURES / "await_sync" / "before",
        FIXTURES / "clickhouse_async" / "before",
    ]


#: What `engine.analysis_cut` gave, in tests that count reductions: "cut", "nothing to report" or "whole".
CUTS: list[str] = []


@pytest.fixture
def count_reductions(monkeypatch):
    """Force reduction wherever it blanks anything, and count the files it reduced (in this process: no workers).

    Modules indexed whole are cut for their own analysis whatever their size
    (`engine.CUT_FROM_LINES`), so every with/without comparison covers the cut too.
    """
    monkeypatch.setattr(reduction, "WORTHWHILE_SHARE", 1.0)
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 10**9)
    monkeypatch.setattr(engine, "CUT_FROM_LINES", 0)
    CUTS.clear()
    cut = engine.analysis_cut

    def counting_cut(text, rules, package_of=None):
        result = cut(text, rules, package_of)
        CUTS.append("nothing to report" if result is None else "cut" if result else "whole")
        return result

    monkeypatch.setattr(engine, "analysis_cut", counting_cut)
    reduced: list[int] = []
    original = engine.reduce_source

    def counting(text, tree, sites, emptied=(), looked_up=frozenset()):
        result = original(text, tree, sites, emptied, looked_up)
        if result is not None:
            reduced.append(1)
        return result

    monkeypatch.setattr(engine, "reduce_source", counting)
    return reduced


@pytest.mark.parametrize("tree", _trees(), ids=lambda path: f"{path.parent.name}/{path.name}")
@pytest.mark.parametrize("rule", FILE_RULES)
def test_fixture_trees_give_the_same_findings_and_fixes_with_and_without_reduction(
    tree: Path, rule: str, tmp_path: Path, monkeypatch, count_reductions
):
    root = copy_tree(tree, tmp_path / "project")
    _same_with_and_without_reduction(root, (rule,), monkeypatch)


def test_a_fix_the_copy_cannot_take_back_is_made_on_the_whole_file(tmp_path: Path, monkeypatch, count_reductions):
    """The fallback of fixing (`splice_back` refusing) gives what fixing the whole file gives."""
    refused: list[int] = []

    def refusing(original, reduced, rewritten):
        refused.append(1)

    monkeypatch.setattr(engine, "splice_back", refusing)
    for number, tree in enumerate(_trees()):
        root = copy_tree(tree, tmp_path / str(number))
        _same_with_and_without_reduction(root, FILE_RULES, monkeypatch)
    assert len(refused) >= 5


def test_the_fixture_trees_do_exercise_reduction(tmp_path: Path, count_reductions):
    for number, tree in enumerate(_trees()):
        root = copy_tree(tree, tmp_path / str(number))
        _scan_and_apply(root, FILE_RULES)
    assert len(count_reductions) >= 10


def _scan_and_apply_without_reduction(root: Path, monkeypatch) -> tuple[tuple, tuple]:
    monkeypatch.setattr(engine, "REDUCE", False)
    return _scan_and_apply(root, FILE_RULES)


def test_a_generated_monorepo_gives_the_same_findings_and_fixes_with_and_without_reduction(
    tmp_path: Path, monkeypatch, count_reductions
):
    root = tmp_path / "corpus"
    planted = generated_corpus(root, 150, seed=11, largest=25)
    whole_scan, whole_apply = _scan_and_apply_without_reduction(root, monkeypatch)
    monkeypatch.setattr(engine, "REDUCE", True)
    reduced, reduced_apply = _scan_and_apply(root, FILE_RULES)
    assert reduced == whole_scan
    assert reduced_apply == whole_apply
    assert count_reductions
    assert CUTS.count("cut") >= 3 and CUTS.count("nothing to report") >= 3  # modules others import, cut for their own analysis
    found = {(f.rule, f.path, f.line) for f in reduced[0]}
    for rule in ("await-websocket", "clickhouse-async"):
        assert planted[rule]
        assert {(rule, path, line) for path, line in planted[rule]} <= found


CROSS_METHOD = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
    "app/__init__.py": "",
    "app/db.py": (
        "from contextlib import asynccontextmanager\n\n\nclass Client:\n    async def execute(self, q):\n        return q\n\n\n"
        "@asynccontextmanager\nasync def get_clickhouse_client():\n    yield Client()\n"
    ),
    "app/service.py": (
        "from app.db import get_clickhouse_client\n\n\n"
        "class Service:\n"
        "    def __init__(self):\n"
        "        self.client = get_clickhouse_client()\n\n"
        + "".join(f"    def pad_{n}(self):\n        value = {n}\n        return value\n\n" for n in range(30))
        + "    async def run(self):\n        return await self.client.execute('q')\n"
    ),
}


def test_an_object_bound_in_one_method_and_misused_in_another_is_still_seen(tmp_path: Path, monkeypatch, count_reductions):
    root = write(tmp_path / "project", CROSS_METHOD)
    _same_with_and_without_reduction(root, ("clickhouse-async", "async-context"), monkeypatch)
    assert count_reductions


REBINDING = {
    "pkg/__init__.py": "",
    "pkg/ws.py": "def get_manager():\n    return 1\n",
    "app.py": (
        "from pkg.ws import get_manager\n\n\n"
        "class Holder:\n"
        "    def swap(self):\n        global get_manager\n\n        async def get_manager():\n            return 2\n\n"
        + "".join(f"    def unrelated_{n}(self):\n        total = {n}\n\n        def inner():\n            nonlocal total\n            total += 1\n\n        inner()\n        return total\n\n" for n in range(8))
        + "\nasync def handler():\n    return await get_manager()\n"
    ),
}


def test_a_method_rebinding_a_global_stays_the_rest_of_its_class_and_nonlocals_go(tmp_path: Path, monkeypatch, count_reductions):
    """The class is not kept whole for its `global`; a `nonlocal` ties nothing outside its function."""
    text = REBINDING["app.py"]
    site = text.count("\n")
    reduced = reduce(text, {site})
    assert reduced is not None
    assert "global get_manager" in reduced.text and "async def get_manager" in reduced.text
    assert "nonlocal" not in reduced.text and "unrelated" not in reduced.text
    root = write(tmp_path / "rebinding", REBINDING)
    whole = _same_with_and_without_reduction(root, FILE_RULES, monkeypatch)
    assert count_reductions
    assert any("some of its bindings" in finding.message for finding in whole[0][0])


def test_a_files_analysis_makes_one_context_per_module(tmp_path: Path):
    """Fixing asks for one rule's reports after another on one rewritten module: its metadata is made once."""
    import libcst as cst

    root = write(tmp_path / "one", {"pyproject.toml": "", "a.py": "x = 1\n"})
    project = load_project(RunOptions(paths=(root,), use_cache=False, jobs=1))
    analysis = engine.FileAnalysis(project, root / "a.py", project.rules)
    module, other = cst.parse_module("x = 1\n"), cst.parse_module("x = 1\n")
    first = analysis.context(module)
    assert analysis.context(module) is first
    assert analysis.context(other) is not first
    lines = (3,)
    reduced = analysis.context(module, lines)
    assert reduced is not first and reduced.original_lines == lines
    assert analysis.context(module, lines) is reduced
