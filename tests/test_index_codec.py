"""The index cache's codec (index_codec.py): every entry comes back equal, and damage is a miss, not a crash."""

from __future__ import annotations

import ast
import json
import sysconfig
import warnings
from pathlib import Path

import pytest

from codefix.index import FunctionInfo, ImportRef, ModuleInfo, analyse_module
from codefix.index_cache import IndexCache
from codefix.index_codec import decode_module, encode_module

FIXTURES = Path(__file__).parent / "fixtures"


def _entries(folder: Path, limit: int | None = None) -> list[ModuleInfo]:
    entries = []
    for path in sorted(folder.rglob("*.py"))[:limit]:
        try:
            text = path.read_text(encoding="utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        entries.append(analyse_module(tree, f"pkg.{path.stem}", path.name, path.name == "__init__.py", text))
    return entries


def roundtrip(info: ModuleInfo) -> ModuleInfo:
    return decode_module(json.loads(json.dumps(encode_module(info))))


@pytest.mark.parametrize("folder", [FIXTURES, Path(sysconfig.get_paths()["stdlib"]) / "asyncio"], ids=["fixtures", "asyncio"])
def test_every_entry_comes_back_equal(folder: Path):
    entries = _entries(folder)
    assert len(entries) > 20
    for info in entries:
        assert roundtrip(info) == info


def _tasks_module() -> ModuleInfo:
    return next(info for info in _entries(Path(sysconfig.get_paths()["stdlib"]) / "asyncio") if info.path == "tasks.py")


def test_a_module_level_function_is_stored_once_and_shared_again():
    info = _tasks_module()
    back = roundtrip(info)
    shared = [s for bound in back.symbols.values() for s in bound if isinstance(s, FunctionInfo)]
    assert shared and all(back.functions_by_line[s.line] is s for s in shared)


def test_functions_of_another_module_keep_their_own_name_and_path():
    other = FunctionInfo("lib.x", "f", "lib/x.py", 3, False, (), "", (), False, False, (("c", ImportRef("m", "c")),), True)
    info = ModuleInfo("pkg.mod", "pkg/mod.py", False, symbols={"f": [other]})
    assert roundtrip(info) == info


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:3],
        lambda data: [*data[:5], [["f", "not a line"]], *data[6:]],
        lambda data: [*data[:3], [["x", [["?", 1]]]], *data[4:]],
        lambda data: [*data[:3], [["x", [["F", 99999]]]], *data[4:]],
        lambda data: "garbage" * 3 and {"@": "ModuleInfo"},
    ],
    ids=["short", "bad line", "unknown tag", "dangling function", "old layout"],
)
def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path, damage):
    info = _tasks_module()
    cache = IndexCache(tmp_path)
    cache.store("a.py", (1, 2), "digest", info)
    assert cache.lookup("a.py", (1, 2), lambda: b"") == info
    cache._entries["a.py"][2] = damage(encode_module(info))
    assert cache.lookup("a.py", (1, 2), lambda: b"") is None
