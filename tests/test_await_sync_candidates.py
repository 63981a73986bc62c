"""await-sync leaves out modules whose awaited names resolve to no synchronous function.

The index-level check (`AwaitSync.may_name_a_target`) keeps such modules
from LibCST; the screening's (`reaches_no_target`, from the text of files
nobody imports) keeps them from being parsed at all.

The oracle is the rule without that narrowing (the base class's answer):
findings must be the same on shapes that bind an awaited name in every way
Python allows, on the fixture trees and on a generated monorepo; and the
narrowing must leave modules out there, or it is not tested at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codefix import engine, screening
from codefix.engine import RunOptions, load_project, run
from codefix.rules._awaited_sync import AwaitedSyncCallRule
from codefix.rules.await_sync import AwaitSync
from conftest import copy_tree, generated_corpus, write

FIXTURES = Path(__file__).parent / "fixtures"

SHAPES = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
    "pkg/__init__.py": "from .fast import handle as handle_alias\n",
    "pkg/fast.py": "async def handle():\n    return 1\n",
    "pkg/slow.py": "def handle():\n    return 1\n",
    "app/uses.py": (
        "from pkg.fast import handle\nfrom pkg import handle_alias\n\n\n"
        "async def ok():\n    await handle()\n    return await handle_alias()\n"
    ),
    "app/nested.py": (
        "from pkg.fast import handle\n\n\nasync def f():\n    def handle():\n        return 1\n\n    return await handle()\n"
    ),
    "app/local_import.py": (
        "from pkg.fast import handle\n\n\nasync def f():\n    from pkg.slow import handle\n\n    return await handle()\n"
    ),
    "app/class_import.py": (
        "from pkg.fast import handle\n\n\nclass A:\n    from pkg.slow import handle\n\n"
        "    async def f(self):\n        return await handle()\n"
    ),
    "app/fallback.py": (
        "try:\n    from pkg.fast import handle\nexcept ImportError:\n    from pkg.slow import handle\n\n\n"
        "async def f():\n    return await handle()\n"
    ),
    "app/param.py": "from pkg.slow import handle\n\n\nasync def f(handle):\n    return await handle()\n",
    "app/assigned.py": "from pkg.fast import handle\n\n\nasync def f(make):\n    handle = make()\n    return await handle()\n",
    "app/module_def.py": (
        "from pkg.fast import handle\n\n\ndef handle():\n    return 1\n\n\nasync def f():\n    return await handle()\n"
    ),
    "app/star.py": "from pkg.slow import *\n\n\nasync def f():\n    return await handle()\n",
    "app/unrelated.py": "from pkg.slow import handle\n\n\nasync def f():\n    return handle()\n",
    # Plain aliases, which the analysis follows: a name imported as the async `handle` rebound in a
    # function to the sync one, and a module handed to a local name.
    "app/alias_rebinds.py": (
        "from pkg.fast import handle\nfrom pkg.slow import handle as slow_handle\n\n\n"
        "async def f():\n    handle = slow_handle\n    return await handle()\n"
    ),
    "app/alias_module.py": "import pkg.slow as slow\n\n\nasync def f():\n    module = slow\n    return await module.handle()\n",
    # An alias of the async `handle`: nothing to report, and nothing to parse.
    "app/alias_async.py": "from pkg.fast import handle\n\nrun_it = handle\n\n\nasync def f():\n    return await run_it()\n",
}


def _findings(root: Path, monkeypatch, narrowed: bool, screened: bool = True) -> tuple:
    if not narrowed:
        monkeypatch.setattr(AwaitSync, "may_name_a_target", AwaitedSyncCallRule.may_name_a_target)
        monkeypatch.setattr(AwaitSync, "reaches_no_target", AwaitedSyncCallRule.reaches_no_target)
    monkeypatch.setattr(screening, "SCREEN", screened)
    options = RunOptions(paths=(root,), rules=("await-sync",), use_cache=False, jobs=1)
    result = run(options, load_project(options))
    monkeypatch.undo()
    return result.findings, result.errors


def _same_findings_every_way(root: Path, monkeypatch) -> tuple:
    """Narrowed and screened, as a run goes; neither; and narrowed on a full index: all the same."""
    narrowed = _findings(root, monkeypatch, narrowed=True)
    assert narrowed == _findings(root, monkeypatch, narrowed=False)
    assert narrowed == _findings(root, monkeypatch, narrowed=True, screened=False)
    return narrowed


def _screened_out(root: Path) -> set[str]:
    """Files the screening leaves unparsed for await-sync."""
    return set(load_project(RunOptions(paths=(root,), rules=("await-sync",), use_cache=False)).skipped)


def _left_out(root: Path, monkeypatch) -> set[str]:
    """Modules of a full index await-sync's narrowing leaves out that the base class's answer keeps."""
    monkeypatch.setattr(screening, "SCREEN", False)
    project = load_project(RunOptions(paths=(root,), rules=("await-sync",), use_cache=False))
    monkeypatch.undo()
    (rule,) = project.rules
    left = set()
    for module in project.index.modules():
        kept = any(AwaitedSyncCallRule.may_name_a_target(rule, callee, module, project.index) for callee in module.awaited_callees)
        if kept and not rule.has_candidates(module, project.index):
            left.add(module.path)
    return left


def test_every_way_of_binding_the_awaited_name_gives_the_same_findings(tmp_path: Path, monkeypatch):
    root = write(tmp_path / "project", SHAPES)
    narrowed = _same_findings_every_way(root, monkeypatch)
    assert sorted({finding.path for finding in narrowed[0]}) == [
        "app/alias_module.py",
        "app/alias_rebinds.py",
        "app/fallback.py",
        "app/local_import.py",
        "app/module_def.py",
        "app/nested.py",
        "app/star.py",
    ]
    assert _left_out(root, monkeypatch) == {"app/uses.py", "app/assigned.py", "app/alias_async.py"}
    # From the text: a `def handle`, an import of it inside a body (read as one more binding) or a plain
    # alias assigned to it keeps a file.
    assert {"app/uses.py", "app/assigned.py", "app/unrelated.py"} <= _screened_out(root)
    kept = {"app/nested.py", "app/local_import.py", "app/class_import.py", "app/module_def.py", "app/alias_rebinds.py"}
    assert not kept & _screened_out(root)


@pytest.mark.parametrize("tree", ["await_sync/before", "await_websocket/before", "generated"])
def test_trees_give_the_same_findings_with_and_without_the_narrowing(tree: str, tmp_path: Path, monkeypatch):
    if tree == "generated":
        root = tmp_path / "corpus"
        generated_corpus(root, 150, seed=5, largest=20)
    else:
        root = copy_tree(FIXTURES / tree, tmp_path / "project")
    _same_findings_every_way(root, monkeypatch)
    if tree == "generated":
        assert len(_left_out(root, monkeypatch)) >= 2  # modules awaiting another package's async function, as they should


PACKAGE_INIT = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '0'\n",
    "top/__init__.py": "",
    "top/util.py": "async def fetch():\n    return 1\n",
    "top/pkg/util.py": "def fetch():\n    return 1\n",
    "top/pkg/__init__.py": (
        "from .util import fetch\n\n\nasync def start():\n    return await fetch()\n\n\n"
        + "".join(f"def pad_{n}():\n    return {n}\n\n\n" for n in range(12))
    ),
}


def test_a_package_s_relative_imports_start_from_the_package_itself(tmp_path: Path, monkeypatch):
    """`from .util import fetch` in top/pkg/__init__.py is top.pkg.util's sync `fetch`, not top.util's async one.

    The package is cut for its own analysis whatever its size, so the text's side of the check decides.
    """
    monkeypatch.setattr(engine, "CUT_FROM_LINES", 0)
    root = write(tmp_path / "project", PACKAGE_INIT)
    options = RunOptions(paths=(root,), rules=("await-sync",), use_cache=False, jobs=1)
    result = run(options, load_project(options))
    assert [(f.path, f.line) for f in result.findings] == [("top/pkg/__init__.py", 5)]
