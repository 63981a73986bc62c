"""Benchmark codefix against ruff on the same synthetic tree, in the same run.

    python benchmarks/run.py --files 10000 --repeat 3 --scales 1,2,4

For each size (`--files` times each scale) it builds the corpus of
make_corpus.py and prints medians, and ratios to `ruff check --no-cache
--select ASYNC,PT --exit-zero -q` on that tree, for:
- a cold `codefix scan .` (no cache), every default rule, and each rule alone
  (base size only);
- a warm scan (cache filled, nothing changed);
- `codefix scan one_file.py`, warm, and the same after an edit of that file
  (what pre-commit runs on a one-file commit);
- `codefix apply --rule selected` on a fresh copy of the tree, beside
  `ruff check --fix` on another (no target is set for it: it is measured so
  that a slow apply shows);
- the peak memory of each codefix run (its own, via wait4).
It then checks that every planted bug of every rule was found, so speed
never comes from skipping work, that the warm result equals the cold one,
that the clean code gave nothing, that apply left nothing to report, and how
cold time grows with size. Exit status 1 when a planted bug was missed, clean
code gave a finding or results differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_corpus import make_corpus  # noqa: E402

CODEFIX = [sys.executable, "-m", "codefix"]
DEFAULT_RULES = ("await-websocket", "await-sync", "clickhouse-async", "async-context", "pytest-markers")


def timed(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Seconds, peak resident KiB of that process alone, and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return elapsed, usage.ru_maxrss, out.read().decode()


def median_of(command: list[str], cwd: Path, repeat: int, before: Callable[[], None] | None = None) -> tuple[float, int, str]:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(timed(command, cwd))
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def measure(root: Path, repeat: int, jobs: int | None, per_rule: bool) -> dict[str, object]:
    cache = root / ".codefix_cache"
    forget = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    extra = ["--jobs", str(jobs)] if jobs else []
    scan = [*CODEFIX, "scan", ".", "--format", "json", "--exit-zero", *extra]
    rows: dict[str, tuple[float, int]] = {}
    rows["ruff check (ASYNC,PT)"] = median_of([ruff, "check", "--no-cache", "--select", "ASYNC,PT", "--exit-zero", "-q", "."], root, repeat)[:2]
    cold_time, cold_memory, cold_out = median_of(scan, root, repeat, before=forget)
    rows["codefix scan, cold"] = (cold_time, cold_memory)
    if per_rule:
        for rule in DEFAULT_RULES:
            rows[f"  cold, --rule {rule} (1 run)"] = median_of([*scan, "--rule", rule], root, 1, before=forget)[:2]
    timed(scan, root)  # fill the cache for the default rules
    warm_time, warm_memory, warm_out = median_of(scan, root, repeat)
    rows["codefix scan, warm"] = (warm_time, warm_memory)
    one_file = sorted(root.glob("svc_0001/mod_*.py"))[1]
    single = [*CODEFIX, "scan", str(one_file.relative_to(root)), "--exit-zero", "-q", *extra]
    timed(single, root)
    rows["scan one file, warm"] = median_of(single, root, repeat)[:2]
    original = one_file.read_text()

    def edit() -> None:
        one_file.write_text(original + f"\n\nEDITED_AT = {time.time_ns()}\n")

    rows["scan one file, just edited"] = median_of(single, root, repeat, before=edit)[:2]
    one_file.write_text(original)
    copy = root.parent / "applied"

    def fresh_copy() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".codefix_cache", ".codefix", ".ruff_cache"))

    rows["ruff check --fix, fresh copy"] = median_of([ruff, "check", "--no-cache", "--select", "ASYNC,PT", "--fix", "--exit-zero", "-q", "."], copy, repeat, before=fresh_copy)[:2]
    apply = [*CODEFIX, "apply", "--rule", "selected", "--format", "json", *extra]
    apply_time, apply_memory, apply_out = median_of(apply, copy, repeat, before=fresh_copy)
    rows["codefix apply, fresh copy"] = (apply_time, apply_memory)
    shutil.rmtree(copy, ignore_errors=True)
    return {"rows": rows, "cold": json.loads(cold_out), "warm": json.loads(warm_out), "applied": json.loads(apply_out)}


def missed_bugs(planted: dict[str, list[list[object]]], findings: list[dict[str, object]]) -> dict[str, int]:
    found = {(f["rule"], f["path"], f["line"]) for f in findings}
    return {rule: sum((rule, path, line) not in found for path, line in sites) for rule, sites in planted.items()}


def unplanted_findings(planted: dict[str, list[list[object]]], findings: list[dict[str, object]]) -> list[str]:
    """Findings at no planted bug: the corpus's clean code (correct uses of the same names) must give none."""
    sites = {(rule, path, line) for rule, places in planted.items() for path, line in places}
    return [f"{f['path']}:{f['line']}: {f['rule']}" for f in findings if (f["rule"], f["path"], f["line"]) not in sites]


def byte_compile_codefix() -> Path:
    """Compile codefix's modules once, as installing a package does.

    Where PYTHONDONTWRITEBYTECODE is set (this machine sets it) an editable
    install would recompile every module of codefix on every timed run, a
    cost (~0.1 s) no installed copy pays. Compiled here, by the interpreter
    the runs use, into the package's own `__pycache__`.
    """
    import compileall

    import codefix

    package = Path(codefix.__file__).parent
    compileall.compile_dir(package, quiet=1)
    return package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--scales", default="1", help="Comma-separated multiples of --files, e.g. 1,2,4.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--skip-per-rule", action="store_true", help="Leave out the per-rule cold scans (five more cold runs).")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    failed = False
    colds: list[tuple[int, float]] = []
    package = byte_compile_codefix()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {args.repeat} runs; seconds, x ruff, peak MiB")
    print(f"codefix from {package} (byte-compiled)")
    for number, scale in enumerate(scales):
        files = int(args.files * scale)
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder) / "corpus"
            planted = make_corpus(root, files, args.seed)
            lines = sum(path.read_bytes().count(b"\n") for path in root.rglob("*.py"))
            result = measure(root, args.repeat if number == 0 else 1, args.jobs, per_rule=number == 0 and not args.skip_per_rule)
        rows = result["rows"]
        ruff_time = rows["ruff check (ASYNC,PT)"][0]
        print(f"\ncorpus: {files} files, {lines} lines (seed {args.seed})")
        print(f"{'run':<34}{'seconds':>10}{'x ruff':>9}{'MiB':>8}")
        for label, (seconds, peak_kib) in rows.items():
            print(f"{label:<34}{seconds:>10.2f}{seconds / ruff_time:>9.2f}{peak_kib / 1024:>8.0f}")
        if result["cold"] != result["warm"]:
            print("warm and cold results differ")
            failed = True
        left = result["applied"]["findings"] + result["applied"]["errors"]
        if left:
            print(f"apply left {len(left)} findings and errors")
            failed = True
        for rule, count in missed_bugs(planted, result["cold"]["findings"]).items():
            print(f"{rule}: planted {len(planted[rule])}, missed {count}")
            failed |= count > 0
        unplanted = unplanted_findings(planted, result["cold"]["findings"])
        print(f"findings in clean code: {len(unplanted)}", *unplanted[:10], sep="\n  ")
        failed |= bool(unplanted)
        colds.append((files, rows["codefix scan, cold"][0]))
    if len(colds) > 1:
        base_files, base_time = colds[0]
        for files, seconds in colds[1:]:
            print(f"cold time at {files / base_files:.0f}x the files: {seconds / base_time:.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
