"""Generate a deterministic synthetic monorepo for benchmarks.

    python benchmarks/make_corpus.py OUT --files 10000 --seed 7

The tree looks like the services codefix is built for: packages whose
`__init__.py` re-export their functions (absolute or relative imports), sync
and async functions of the same names in many modules, `@asynccontextmanager`
ClickHouse factories used correctly (`async with`) and not, modules importing
other packages' functions (some under another name with `as`) and calling
them as they should be called, test files with pytest markers and a
`pyproject.toml` registering most of them, file sizes with a long tail. A few
hundred bugs of each rule are planted among mostly clean code, some through
an alias, and listed in `OUT/planted.json`, so a benchmark can check that
speed never comes from skipping work, and that the clean code gives nothing.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

MARKERS = ["slow", "integration", "db", "smoke", "flaky", "network", "clickhouse", "websocket"]


def _function_block(rng: random.Random, shape: random.Random, index: int, uses: list[str]) -> tuple[str, bool]:
    """A clean, realistic-looking function of 8-40 lines, and whether it is `async def`.

    `uses`: lines calling what the module imported, correctly; the function
    holds one of them now and then, when it is async (they may await).
    `shape` draws that, so that `rng` draws what it drew before uses were
    added (and a seed still gives the same sizes, markers and planted bugs).
    """
    body = [f"    value_{i} = payload.get('k{i}', {rng.randint(0, 999)})" for i in range(rng.randint(3, 30))]
    is_async = rng.choice(["def", "async def"]) == "async def"
    extra = ""
    if is_async:
        extra = "    await asyncio.sleep(0)\n"
        if uses and shape.random() < 0.3:
            extra += shape.choice(uses)
    return (
        f"{'async def' if is_async else 'def'} handle_{index}(payload: dict) -> dict:\n"
        f'    """Handle request kind {index}."""\n'
        + "\n".join(body)
        + f"\n{extra}    return {{'kind': {index}, 'size': len(payload)}}\n\n\n"
    ), is_async


def _module_size(rng: random.Random, largest: int) -> int:
    """Functions per module: most files are small, a few are several thousand lines."""
    return min(int(rng.paretovariate(1.3) * 6), largest)


def make_corpus(out: Path, files: int, seed: int, largest: int = 400) -> dict[str, list[list[object]]]:
    """Write the tree; `largest` caps the functions of one module (tests use small trees)."""
    rng = random.Random(seed)
    shape = random.Random(f"{seed}-shape")  # draws for imports and correct uses (see `_function_block`)
    out.mkdir(parents=True, exist_ok=True)
    planted: dict[str, list[list[object]]] = {"await-websocket": [], "clickhouse-async": [], "pytest-markers": []}
    packages = max(1, files // 50)
    (out / "pyproject.toml").write_text(
        '[project]\nname = "corpus"\nversion = "0"\n\n[tool.pytest.ini_options]\naddopts = "--strict-markers"\nmarkers = [\n'
        + "".join(f'    "{m}: {m} tests",\n' for m in MARKERS[:-1])
        + "]\n"
    )
    written = 1
    core = out / "svc_core"
    core.mkdir(exist_ok=True)
    (core / "__init__.py").write_text("from svc_core.ws import get_websocket_manager\nfrom svc_core.db import get_clickhouse_client\n")
    (core / "ws.py").write_text(
        "class Manager:\n    pass\n\n\n_manager = None\n\n\ndef get_websocket_manager():\n"
        "    global _manager\n    if _manager is None:\n        _manager = Manager()\n    return _manager\n"
    )
    (core / "db.py").write_text(
        "from contextlib import asynccontextmanager\n\n\nclass Client:\n    async def execute(self, query):\n        return query\n\n\n"
        "@asynccontextmanager\nasync def get_clickhouse_client():\n    yield Client()\n"
    )
    written += 3
    per_package = max(1, (files - written) // packages)
    #: Per package written: the functions its `__init__.py` re-exports, with whether each is async.
    exported: list[tuple[str, dict[str, bool]]] = []
    for p in range(packages):
        package = out / f"svc_{p:04d}"
        tests = package / "tests"
        tests.mkdir(parents=True, exist_ok=True)
        defined: dict[str, dict[str, bool]] = {}
        for m in range(per_package):
            if written >= files:
                break
            is_test = m % 5 == 4
            folder = tests if is_test else package
            name = f"test_mod_{m:03d}.py" if is_test else f"mod_{m:03d}.py"
            path = folder / name
            size = _module_size(rng, largest)
            header, names, uses = _header(shape, exported, size)
            ws_name, ch_name = names
            chunks = [header]
            line = header.count("\n") + 1
            functions: dict[str, bool] = {}
            for f in range(size):
                if is_test:
                    marker = rng.choice(MARKERS[:-1])
                    if rng.random() < 0.01:
                        marker = MARKERS[-1]  # registered nowhere: planted
                        planted["pytest-markers"].append([path.relative_to(out).as_posix(), line])
                    block = f"@pytest.mark.{marker}\nasync def test_case_{f}():\n    assert {f} == {f}\n\n\n"
                elif rng.random() < 0.004:
                    planted["await-websocket"].append([path.relative_to(out).as_posix(), line + 1])
                    block = f"async def notify_{f}():\n    manager = await {ws_name}()\n    return manager\n\n\n"
                elif rng.random() < 0.004:
                    planted["clickhouse-async"].append([path.relative_to(out).as_posix(), line + 1])
                    block = f"async def report_{f}():\n    client = await {ch_name}()\n    return await client.execute('q')\n\n\n"
                else:
                    block, functions[f"handle_{f}"] = _function_block(rng, shape, f, uses)
                chunks.append(block)
                line += block.count("\n")
            path.write_text("".join(chunks))
            written += 1
            if not is_test and functions:
                defined[path.stem] = functions
        (package / "__init__.py").write_text(_init_text(shape, package.name, defined, exported))
    (out / "planted.json").write_text(json.dumps(planted, indent=1))
    return planted


#: Share of modules that import the ClickHouse and websocket factories under other names.
ALIASED = 0.15
#: Share of modules that import functions another package re-exports.
IMPORTING = 0.4


def _header(
    rng: random.Random, exported: list[tuple[str, dict[str, bool]]], size: int
) -> tuple[str, tuple[str, str], list[str]]:
    """A module's imports, the names it calls the two factories by, and lines using its imports correctly.

    Correct uses are what real services are made of, and what the rules
    must look at and leave alone: a factory entered with `async with`, the
    websocket manager called without `await`, another package's async
    function awaited and its sync function called. `size`: how many
    functions (`handle_0`...) the module defines; an imported name one of
    them would rebind is imported under another name.
    """
    if rng.random() < ALIASED:
        names = ("ws_manager", "ch_client")
        factories = "from svc_core import get_clickhouse_client as ch_client, get_websocket_manager as ws_manager\n"
    else:
        names = ("get_websocket_manager", "get_clickhouse_client")
        factories = "from svc_core import get_clickhouse_client, get_websocket_manager\n"
    uses = [
        f"    async with {names[1]}() as client:\n        await client.execute('q')\n",
        f"    manager = {names[0]}()\n",
    ]
    imported = ""
    if exported and rng.random() < IMPORTING:
        package, functions = rng.choice(exported[-20:])
        name, is_async = rng.choice(sorted(functions.items()))
        shadowed = int(name.rpartition("_")[2]) < size
        local = f"{name}_of_{package}" if shadowed or rng.random() < 0.5 else name
        bound = f"{name} as {local}" if local != name else name
        imported = f"from {package} import {bound}\n"
        uses.append(f"    {'await ' if is_async else ''}{local}({{'from': '{package}'}})\n")
    return f"import asyncio\n\nimport pytest\n\n{factories}{imported}\n\n", names, uses


def _init_text(rng: random.Random, package: str, defined: dict[str, dict[str, bool]], exported: list) -> str:
    """A package's `__init__.py`: re-exports of a few functions of its first modules, relative or absolute."""
    lines, functions = [], {}
    for module, names in list(defined.items())[:2]:
        chosen = sorted(set(names) - functions.keys())[:3]  # one binding per name: the last import would win
        if not chosen:
            continue
        source = f".{module}" if rng.random() < 0.5 else f"{package}.{module}"
        lines.append(f"from {source} import {', '.join(chosen)}\n")
        functions.update({name: names[name] for name in chosen})
    if functions:
        exported.append((package, functions))
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    planted = make_corpus(args.out, args.files, args.seed)
    lines = sum(path.read_bytes().count(b"\n") for path in args.out.rglob("*.py"))
    print(f"{args.out}: {args.files} files, {lines} lines, planted {', '.join(f'{k}={len(v)}' for k, v in planted.items())}")


if __name__ == "__main__":
    main()
