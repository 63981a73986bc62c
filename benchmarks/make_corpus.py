"""Generate a deterministic synthetic monorepo for benchmarks.

    python benchmarks/make_corpus.py OUT --files 10000 --seed 7

The tree looks like the services codefix is built for: packages whose
`__init__.py` re-export their functions, sync and async functions,
`@asynccontextmanager` ClickHouse factories, test files with pytest markers
and a `pyproject.toml` registering most of them, file sizes with a long tail.
A few hundred bugs of each rule are planted among mostly clean code and
listed in `OUT/planted.json`, so a benchmark can check that speed never comes
from skipping work.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

MARKERS = ["slow", "integration", "db", "smoke", "flaky", "network", "clickhouse", "websocket"]


def _function_block(rng: random.Random, index: int) -> str:
    """A clean, realistic-looking function of 8-40 lines."""
    body = [f"    value_{i} = payload.get('k{i}', {rng.randint(0, 999)})" for i in range(rng.randint(3, 30))]
    kind = rng.choice(["def", "async def"])
    await_line = "    await asyncio.sleep(0)\n" if kind == "async def" else ""
    return (
        f"{kind} handle_{index}(payload: dict) -> dict:\n"
        f'    """Handle request kind {index}."""\n'
        + "\n".join(body)
        + f"\n{await_line}    return {{'kind': {index}, 'size': len(payload)}}\n\n\n"
    )


def _module_size(rng: random.Random, largest: int) -> int:
    """Functions per module: most files are small, a few are several thousand lines."""
    return min(int(rng.paretovariate(1.3) * 6), largest)


def make_corpus(out: Path, files: int, seed: int, largest: int = 400) -> dict[str, list[list[object]]]:
    """Write the tree; `largest` caps the functions of one module (tests use small trees)."""
    rng = random.Random(seed)
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
    for p in range(packages):
        package = out / f"svc_{p:04d}"
        tests = package / "tests"
        tests.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        for m in range(per_package):
            if written >= files:
                break
            is_test = m % 5 == 4
            folder = tests if is_test else package
            name = f"test_mod_{m:03d}.py" if is_test else f"mod_{m:03d}.py"
            path = folder / name
            header = "import asyncio\n\nimport pytest\n\nfrom svc_core import get_clickhouse_client, get_websocket_manager\n\n\n"
            chunks = [header]
            line = header.count("\n") + 1
            for f in range(_module_size(rng, largest)):
                if is_test:
                    marker = rng.choice(MARKERS[:-1])
                    if rng.random() < 0.01:
                        marker = MARKERS[-1]  # registered nowhere: planted
                        planted["pytest-markers"].append([path.relative_to(out).as_posix(), line])
                    block = f"@pytest.mark.{marker}\nasync def test_case_{f}():\n    assert {f} == {f}\n\n\n"
                elif rng.random() < 0.004:
                    planted["await-websocket"].append([path.relative_to(out).as_posix(), line + 1])
                    block = f"async def notify_{f}():\n    manager = await get_websocket_manager()\n    return manager\n\n\n"
                elif rng.random() < 0.004:
                    planted["clickhouse-async"].append([path.relative_to(out).as_posix(), line + 1])
                    block = f"async def report_{f}():\n    client = await get_clickhouse_client()\n    return await client.execute('q')\n\n\n"
                else:
                    block = _function_block(rng, f)
                chunks.append(block)
                line += block.count("\n")
            path.write_text("".join(chunks))
            written += 1
    (out / "planted.json").write_text(json.dumps(planted, indent=1))
    return planted


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
