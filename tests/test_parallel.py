"""parallel.py: files analysed in forked workers give exactly what one process gives.

The oracle is the same run with one job. Scans and fixes of a generated
monorepo and of every fixture tree must be equal, in the same order; a
worker that dies mid-run must cost time, not outcomes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codefix import parallel
from codefix.engine import RunOptions, load_project, run
from conftest import FIXTURES, copy_tree, generated_corpus

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="workers are forked")


def _run(root: Path, jobs: int, fix: bool) -> tuple:
    options = RunOptions(paths=(root,), fix=fix, use_cache=False, jobs=jobs)
    result = run(options, load_project(options))
    return result.findings, result.errors, tuple((c.path, c.before, c.after) for c in result.changes), result.fixed


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    generated_corpus(root, 40, seed=5, largest=12)
    return root


@pytest.mark.parametrize("fix", [False, True], ids=["scan", "apply"])
def test_workers_give_what_one_process_gives(corpus: Path, fix: bool, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 2)
    alone = _run(corpus, 1, fix)
    together = _run(corpus, 2, fix)
    assert together == alone
    assert alone[2] and alone[3] if fix else alone[0]  # there was something to fix, or to find


def test_every_fixture_tree_in_workers(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 2)
    trees = sorted(path.parent for path in FIXTURES.glob("*/before"))
    checked = 0
    for number, tree in enumerate(trees):
        root = copy_tree(tree / "before", tmp_path / str(number)) if (tree / "before").is_dir() else None
        if root is None:
            continue
        assert _run(root, 2, True) == _run(root, 1, True), tree.name
        checked += 1
    assert checked >= 3


def _dies_on_seven(item: int, offset: int) -> int:
    if item == 7 and os.getpid() != _PARENT:
        os._exit(1)  # a worker killed mid-run (out of memory, a signal)
    return item + offset


_PARENT = os.getpid()


def test_a_dead_worker_costs_time_not_outcomes():
    items = list(range(200))
    assert list(parallel.ordered_map(_dies_on_seven, items, (1000,), 2)) == [item + 1000 for item in items]


def test_few_items_stay_in_this_process():
    assert list(parallel.ordered_map(lambda item, pid: (item, pid == os.getpid()), [1, 2], (os.getpid(),), 4)) == [
        (1, True),
        (2, True),
    ]
