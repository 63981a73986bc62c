"""The benchmark corpus (benchmarks/make_corpus.py): the shapes it promises, and exactly its planted findings.

A benchmark is only as honest as its corpus: one whose packages import
nothing from each other lets the screening skip nearly every file, and one
whose clean code never uses the factories tells nothing of their cost.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import generated_corpus

from codefix.engine import RunOptions, run


def test_the_corpus_holds_the_shapes_real_services_have(tmp_path: Path):
    root = tmp_path / "corpus"
    generated_corpus(root, 400, seed=7, largest=30)
    texts = {path.relative_to(root).as_posix(): path.read_text() for path in root.rglob("*.py")}
    inits = [text for name, text in texts.items() if name.endswith("__init__.py") and name != "svc_core/__init__.py"]
    assert sum("from ." in text for text in inits) >= 2 and sum("from svc_" in text for text in inits) >= 2
    modules = [text for name, text in texts.items() if "/tests/" not in name and not name.endswith("__init__.py")]
    imports_a_package = [text for text in modules if "\nfrom svc_0" in text]
    assert len(imports_a_package) > len(modules) / 5, "packages import each other's re-exported functions"
    assert any(" as handle_" in text for text in imports_a_package), "some under another name"
    assert any(re.search(r"\nfrom svc_0\d+ import handle_\d+\n", text) for text in imports_a_package), "some under their own"
    assert sum("as ws_manager" in text for text in modules) > len(modules) / 20, "factories imported under aliases"
    assert sum("async with ch_client() as client" in text or "async with get_clickhouse_client() as client" in text for text in modules) > 10
    assert sum("    manager = get_websocket_manager()\n" in text or "    manager = ws_manager()\n" in text for text in modules) > 10


def test_the_corpus_gives_its_planted_bugs_and_nothing_else(tmp_path: Path):
    """Every planted bug is found where planted.json says, and the clean code (same names, used correctly) gives nothing."""
    root = tmp_path / "corpus"
    planted = generated_corpus(root, 400, seed=7, largest=30)
    result = run(RunOptions(paths=(root,), use_cache=False, jobs=1))
    assert not result.errors
    found = sorted((f.rule, f.path, f.line) for f in result.findings)
    expected = sorted((rule, path, line) for rule, places in planted.items() for path, line in places)
    assert found == expected
    assert {rule for rule, _, _ in found} == {"await-websocket", "clickhouse-async", "pytest-markers"}
    aliased = [path for _, path, _ in found if "as ws_manager" in (root / path).read_text()]
    assert aliased, "some planted bugs are reached through an alias"
