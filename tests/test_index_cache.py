"""The index cache: warm runs reuse unchanged files and give the same results as cold ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

from codefix.engine import RunOptions, run
from codefix.index import build_index, content_hash
from codefix.index_cache import CACHE_DIR, IndexCache
from conftest import BROKEN_WITH_A_SITE

FACTORY = "class Manager:\n    pass\n\n\ndef get_websocket_manager():\n    return Manager()\n"
USE = "from pkg.ws import get_websocket_manager\n\n\nasync def handler():\n    return await get_websocket_manager()\n"


def make_project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "ws.py").write_text(FACTORY)
    (root / "pkg" / "use.py").write_text(USE)
    (root / "pkg" / "broken.py").write_text(BROKEN_WITH_A_SITE)
    return root


def scan(root: Path, use_cache: bool = True):
    result = run(RunOptions(paths=(root,), use_cache=use_cache))
    return result.findings, result.errors


def test_warm_run_gives_the_cold_results_and_reads_the_cache(tmp_path):
    root = make_project(tmp_path)
    cold = scan(root, use_cache=False)
    assert not (root / CACHE_DIR).exists(), "--no-cache must not write the cache"
    first = scan(root)
    assert (root / CACHE_DIR / ".gitignore").read_text().strip().endswith("*")
    second = scan(root)
    assert cold == first == second
    assert len(cold[0]) == 1 and len(cold[1]) == 1
    cache = IndexCache(root)
    assert sorted(cache) == ["pkg/__init__.py", "pkg/broken.py", "pkg/use.py", "pkg/ws.py"]


def test_warm_build_parses_nothing_unchanged(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    build_index(root)
    parsed: list[str] = []
    import codefix.index as index_module

    original = index_module.index_source
    monkeypatch.setattr(index_module, "index_source", lambda raw, path, rel, name: parsed.append(rel) or original(raw, path, rel, name))
    build_index(root)
    assert parsed == []
    (root / "pkg" / "ws.py").write_text(FACTORY.replace("def get_websocket_manager", "async def get_websocket_manager"))
    build_index(root)
    assert parsed == ["pkg/ws.py"]


def test_an_edited_definition_changes_the_findings(tmp_path):
    root = make_project(tmp_path)
    assert len(scan(root)[0]) == 1
    ws = root / "pkg" / "ws.py"
    ws.write_text(FACTORY.replace("def get_websocket_manager", "async def get_websocket_manager"))
    assert scan(root)[0] == ()


def test_a_touched_but_unchanged_file_is_reused_by_its_content_hash(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    build_index(root)
    ws = root / "pkg" / "ws.py"
    stat = ws.stat()
    os.utime(ws, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    import codefix.index as index_module

    parsed: list[str] = []
    original = index_module.index_source
    monkeypatch.setattr(index_module, "index_source", lambda raw, path, rel, name: parsed.append(rel) or original(raw, path, rel, name))
    build_index(root)
    assert parsed == []


def test_a_corrupt_or_hostile_cache_is_ignored_and_rebuilt(tmp_path):
    root = make_project(tmp_path)
    expected = scan(root, use_cache=False)
    scan(root)
    cache_file = IndexCache(root).path
    ws = root / "pkg" / "ws.py"
    signature = [ws.stat().st_mtime_ns, ws.stat().st_size]
    hostile = {"pkg/ws.py": [signature, content_hash(ws.read_bytes()), {"@": "system", "v": ["touch pwned"]}]}
    for payload in ("{not json", json.dumps({"files": hostile})):
        cache_file.write_text(payload)
        assert scan(root) == expected
    assert not (root / "pwned").exists()

