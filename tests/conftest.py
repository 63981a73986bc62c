"""Shared test helpers: running codefix as users do, on copies of fixture trees."""

from __future__ import annotations

import ast
import contextlib
import os
import pty
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

#: The smallest await-websocket project: a sync factory, and a handler that awaits it.
FACTORY = "class Manager:\n    pass\n\n\ndef get_websocket_manager(ctx=None):\n    return Manager()\n"
USE = (
    "from pkg.ws import get_websocket_manager\n"
    "\n"
    "\n"
    "async def handler(ctx):\n"
    "    return await get_websocket_manager(ctx)\n"
)
USE_FIXED = USE.replace("await ", "")

#: The same with a second synchronous callee, `load_settings`, which only await-sync reports:
#: for tests that tell the rules' findings apart.
#: A file with a syntax error that holds a candidate site, so a run must parse it and
#: report it (a broken file that no rule can concern is never parsed: test_screening.py).
BROKEN_WITH_A_SITE = "async def broken(:\n    await get_websocket_manager()\n"
FACTORY_WITH_SETTINGS = FACTORY + "\n\ndef load_settings():\n    return {}\n"
USE_WITH_SETTINGS = (
    "from pkg.ws import get_websocket_manager, load_settings\n"
    "\n"
    "\n"
    "async def handler(ctx):\n"
    "    settings = await load_settings()\n"
    "    return await get_websocket_manager(ctx)\n"
)


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str


def run_codefix(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None) -> Completed:
    """Run `python -m codefix ...` in a subprocess, exactly as a user's shell would."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "codefix", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    return Completed(completed.returncode, completed.stdout, completed.stderr)


def copy_tree(source: Path, destination: Path) -> Path:
    """Copy a fixture tree byte for byte (CRLF and BOM files included)."""
    shutil.copytree(source, destination, dirs_exist_ok=True)
    return destination


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (outside codefix's own .codefix/ and .codefix_cache/, and .git/) with its exact bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not {".codefix", ".codefix_cache", ".git", "__pycache__"} & set(path.relative_to(root).parts)
    }


def invoke(*args: str | os.PathLike[str], cwd: Path):
    """`codefix ARGS` in-process, in `cwd`; an unexpected exception fails the test as itself."""
    from typer.testing import CliRunner

    from codefix.cli import app

    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, [str(arg) for arg in args], env={"NO_COLOR": "1", "COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `files` (relative path -> text or bytes) under root, folders included."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def assert_parses(path: Path) -> None:
    """The oracle for every rewritten file: CPython's own parser accepts it."""
    ast.parse(path.read_bytes(), filename=str(path))


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.email=tests@codefix.invalid", "-c", "user.name=codefix tests", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project root (it has a pyproject.toml, so codefix stops there)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "example"\nversion = "0"\n')
    return root


def run_in_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Output of `python -m codefix ARGS` run with a pseudo-terminal as stdout and stderr."""
    environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(TERM="xterm-256color", COLUMNS="200", **(env or {}))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "codefix", *args], cwd=cwd, stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    chunks = read_terminal(leader)
    process.wait(timeout=300)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def read_terminal(leader: int) -> list[bytes]:
    """Everything written to a pseudo-terminal until its child closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO once the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return chunks


def generated_corpus(root: Path, files: int, seed: int, largest: int) -> dict[str, list[list[object]]]:
    """The benchmark's synthetic monorepo (benchmarks/make_corpus.py) at `root`; returns the planted bugs."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from make_corpus import make_corpus
    finally:
        sys.path.pop(0)
    return make_corpus(root, files, seed=seed, largest=largest)


def parseable_texts(paths: list[Path]) -> list[str]:
    """The texts of `paths` that are UTF-8 and parse (the fixtures hold broken files on purpose)."""
    texts = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            ast.parse(text)
        except (SyntaxError, UnicodeDecodeError):
            continue
        texts.append(text)
    return texts
