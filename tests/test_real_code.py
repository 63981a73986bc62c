"""Issue 7, real code: scanning the running interpreter's standard library and site-packages.

About two thousand files each, nobody here wrote them, and the standard
library keeps files with deliberate syntax errors and legacy encodings. Each
tree is copied (Python files only) into a temporary folder with its own
pyproject.toml, so the project root is that folder and not whatever project
the interpreter happens to live in; both scans run at once, as real
processes, from outside the copies (so `python -m` cannot import them).

The oracle for "unparsable or undecodable" is CPython itself: every file
whose bytes `compile` rejects must be listed under `errors` with a reason,
in the folder scan when codefix parses it there, else when it is named (a
file no rule can concern is not parsed in a folder scan: screening.py).
The counts (files, errors, findings per rule) are printed for the report.
"""

from __future__ import annotations

import ast
import collections
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import warnings
from pathlib import Path

import pytest

from codefix.discovery import iter_python_files


def _copy_python_files(source: Path, destination: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> list[str]:
        return [
            name
            for name in names
            if name in ("site-packages", "__pycache__")
            or (not name.endswith(".py") and not os.path.isdir(os.path.join(folder, name)))
        ]

    shutil.copytree(source, destination, ignore=ignore, symlinks=True)
    (destination / "pyproject.toml").write_text(f'[project]\nname = "copy-of-{source.name}"\nversion = "0"\n')
    return destination


def _rejected_by_cpython(root: Path) -> dict[str, str]:
    """Files codefix walks that CPython cannot decode or parse, with CPython's reason."""
    rejected = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in iter_python_files(root):
            try:
                ast.parse(path.read_bytes())
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                rejected[path.relative_to(root).as_posix()] = f"{type(exc).__name__}: {exc}"
    return rejected


def _trees(tmp_path: Path) -> dict[str, Path]:
    paths = sysconfig.get_paths()
    trees = {"stdlib": _copy_python_files(Path(paths["stdlib"]), tmp_path / "stdlib")}
    for key in dict.fromkeys(("purelib", "platlib")):
        source = Path(paths[key])
        if source.is_dir() and "site_packages" not in trees:
            trees["site_packages"] = _copy_python_files(source, tmp_path / "site_packages")
    return trees


@pytest.mark.slow
def test_stdlib_and_site_packages_scan_without_a_crash(tmp_path: Path):
    trees = _trees(tmp_path)
    environment = {**os.environ, "NO_COLOR": "1"}
    started = time.monotonic()
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", "codefix", "scan", "--format", "json", str(root)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        for name, root in trees.items()
    }
    outputs = {name: process.communicate(timeout=1500) for name, process in running.items()}
    seconds = time.monotonic() - started
    print(f"\nreal-code scans ({sys.version.split()[0]}), {seconds:.0f} s wall time for both:")
    problems = []
    for name, root in trees.items():
        stdout, stderr = outputs[name]
        code = running[name].returncode
        assert b"Traceback" not in stdout + stderr, f"{name}: {stderr.decode(errors='replace')[-3000:]}"
        assert code in (0, 1), f"{name}: exit {code}: {stderr.decode(errors='replace')[-2000:]}"
        document = json.loads(stdout)
        errors = collections.defaultdict(list)
        for error in document["errors"]:
            assert error["message"].strip(), error
            errors[error["path"]].append(error["message"])
        by_rule = collections.Counter(finding["rule"] for finding in document["findings"])
        files = sum(1 for _ in iter_python_files(root))
        rejected = _rejected_by_cpython(root)
        print(f"  {name}: {files} files, {len(errors)} with errors ({len(rejected)} rejected by CPython), "
              f"{len(document['findings'])} findings {dict(sorted(by_rule.items()))}, exit {code}")
        for path, messages in sorted(errors.items()):
            print(f"    error {path}: {' | '.join(messages)}")
        for finding in document["findings"]:
            print(f"    finding {finding['path']}:{finding['line']}: {finding['rule']} {finding['message']}")
        # A file no rule can concern is not parsed in a folder scan (screening.py); named, every file is.
        unlisted = sorted(path for path in rejected if path not in errors)
        named = _errors_when_named(root, unlisted, environment) if unlisted else {}
        print(f"    {len(unlisted)} rejected files not parsed in the folder scan; named, {len(named)} are listed")
        problems += [f"{name}/{path}: not listed under errors ({rejected[path]})" for path in unlisted if path not in named]
        problems += [f"{name}/{path}: {m}" for path, messages in errors.items() for m in messages if "internal error" in m]
    assert problems == []


def _errors_when_named(root: Path, paths: list[str], environment: dict[str, str]) -> dict[str, list[str]]:
    """The errors of a scan naming these files of `root` (paths relative to it)."""
    result = subprocess.run(
        [sys.executable, "-m", "codefix", "scan", "--format", "json", "--no-cache", *paths],
        cwd=root,
        capture_output=True,
        env=environment,
        timeout=600,
    )
    assert b"Traceback" not in result.stdout + result.stderr, result.stderr.decode(errors="replace")[-3000:]
    errors: dict[str, list[str]] = collections.defaultdict(list)
    for error in json.loads(result.stdout)["errors"]:
        errors[error["path"]].append(error["message"])
    return errors
