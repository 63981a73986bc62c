"""Benchmark codefix against ruff on the same synthetic tree, in the same run.

    python benchmarks/run.py --files 2000 --repeat 3

Prints medians and ratios to `ruff check --no-cache --select ASYNC,PT
--exit-zero -q` for a cold scan (no cache), a warm scan (cache filled, nothing
changed) and a one-file warm scan, plus codefix's peak memory, and checks that
every planted bug of the await-websocket and clickhouse-async rules was found.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_corpus import make_corpus  # noqa: E402


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, completed


def median_time(command: list[str], cwd: Path, repeat: int, before=None) -> tuple[float, subprocess.CompletedProcess[str]]:
    times = []
    completed = None
    for _ in range(repeat):
        if before:
            before()
        elapsed, completed = timed(command, cwd)
        times.append(elapsed)
    assert completed is not None
    return statistics.median(times), completed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    codefix = [sys.executable, "-m", "codefix"]
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "corpus"
        planted = make_corpus(root, args.files, args.seed)
        lines = sum(path.read_bytes().count(b"\n") for path in root.rglob("*.py"))
        cache = root / ".codefix_cache"
        ruff_time, _ = median_time([ruff, "check", "--no-cache", "--select", "ASYNC,PT", "--exit-zero", "-q", "."], root, args.repeat)
        cold, completed = median_time(
            [*codefix, "scan", ".", "--format", "json", "--exit-zero"], root, args.repeat,
            before=lambda: shutil.rmtree(cache, ignore_errors=True),
        )
        warm, warm_completed = median_time([*codefix, "scan", ".", "--format", "json", "--exit-zero"], root, args.repeat)
        one_file = next(iter(sorted(root.glob("svc_0000/mod_*.py"))))
        single, _ = median_time([*codefix, "scan", str(one_file.relative_to(root)), "--exit-zero"], root, args.repeat)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        findings = json.loads(completed.stdout)["findings"]
        assert json.loads(warm_completed.stdout) == json.loads(completed.stdout), "warm and cold results differ"
        found = {(f["rule"], f["path"], f["line"]) for f in findings}
        missed = {
            rule: [site for site in sites if (rule, site[0], site[1]) not in found]
            for rule, sites in planted.items()
            if rule != "pytest-markers"
        }
    print(f"corpus: {args.files} files, {lines} lines; repeat {args.repeat}; median seconds")
    print(f"{'run':<28}{'seconds':>10}{'x ruff':>10}")
    for label, seconds in (("ruff check (ASYNC,PT)", ruff_time), ("codefix scan, cold", cold),
                           ("codefix scan, warm", warm), ("codefix scan one file, warm", single)):
        print(f"{label:<28}{seconds:>10.2f}{seconds / ruff_time:>10.1f}")
    print(f"peak memory of a codefix run: {peak_kb / 1024:.0f} MiB")
    for rule, sites in missed.items():
        print(f"{rule}: planted {len(planted[rule])}, missed {len(sites)}")
    return 1 if any(missed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
