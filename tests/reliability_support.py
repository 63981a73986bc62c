"""Helpers shared by the reliability tests of issue 7: small projects with fixable findings,
codefix run as a real process with its time and memory, and an independent reader of patch files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import FACTORY, write

RULE = ("--rule", "await-websocket")


def with_factory(root: Path) -> Path:
    """The package whose sync `get_websocket_manager` makes `await get_websocket_manager(...)` a fixable finding."""
    return write(root, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY})


def patches(root: Path) -> list[Path]:
    """The patches saved under the project (not the temporary files of one being created)."""
    folder = root / ".codefix" / "patches"
    return sorted(p for p in folder.glob("*.patch") if not p.name.startswith(".")) if folder.is_dir() else []


@dataclass
class Process:
    code: int
    stdout: str
    stderr: str
    seconds: float
    #: Peak resident memory of the process, in MB (Linux reports kilobytes).
    peak_mb: float


def run_process(*args: str | os.PathLike[str], cwd: Path, timeout: float) -> Process:
    """`python -m codefix ARGS` as a real process; exceeding `timeout` fails the test (a hang)."""
    import resource

    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "codefix", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"codefix {' '.join(map(str, args))} did not finish within {timeout} s") from None
    seconds = time.monotonic() - started
    # Children's peak so far; our child is the largest codefix process the test ran.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Process(process.returncode, stdout, stderr, seconds, peak)


# --- reading patch files, independently of codefix.patch ---------------------------------

_PENDING = re.compile(rb"^# codefix-pending: sha256:([0-9a-f]{64}) sha256:([0-9a-f]{64}) (\d+) ([^\n]+)\n", re.M)
_COMMITTED = re.compile(rb"^# codefix-file: sha256:([0-9a-f]{64}) sha256:([0-9a-f]{64}) ([^\n]+)$", re.M)


@dataclass(frozen=True)
class PatchContents:
    #: path -> (sha256 before, sha256 after) of every file the patch says was written.
    committed: dict[str, tuple[str, str]]
    #: Same for the journal's records without a commit line (the file in hand when the run died).
    pending: dict[str, tuple[str, str]]


def read_patch(data: bytes) -> PatchContents:
    """What a patch or an interrupted run's journal says, following the format documented in codefix.patch."""
    committed = {m.group(3).decode("utf-8", "surrogateescape"): (m.group(1).decode(), m.group(2).decode()) for m in _COMMITTED.finditer(data)}
    pending = {}
    for match in _PENDING.finditer(data):
        path = match.group(4).decode("utf-8", "surrogateescape")
        complete = match.end() + int(match.group(3)) <= len(data)
        if path not in committed and complete:
            pending[path] = (match.group(1).decode(), match.group(2).decode())
    return PatchContents(committed, pending)
