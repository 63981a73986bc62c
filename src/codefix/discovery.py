"""Where the project is and which Python files belong to it.

Name resolution needs the whole project even when the user names one file
(pre-commit passes only the staged ones), so discovery answers two questions:
the project root and its files, and the subset the user asked to report on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

#: Folders that never hold the project's own code: tool caches, virtual
#: environments, vendored dependencies and VCS metadata.
EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".codefix",
        ".codefix_cache",
        "site-packages",
        "build",
        "dist",
    }
)

ROOT_MARKERS = ("pyproject.toml", ".git")


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pyproject.toml or .git."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return folder


def is_excluded_dir(name: str) -> bool:
    return name in EXCLUDED_DIRS or name.endswith(".egg-info")


def iter_python_files(folder: Path) -> Iterator[Path]:
    """Every `.py` file under `folder`, skipping excluded folders, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not is_excluded_dir(d))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath, name)


def select_files(paths: Sequence[Path]) -> list[Path]:
    """The Python files named by the user: files as given, folders walked."""
    seen: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for file in iter_python_files(path):
                seen.setdefault(file.resolve(), None)
        elif path.suffix == ".py":
            seen.setdefault(path.resolve(), None)
    return list(seen)


def relative_name(path: Path, root: Path) -> str:
    """The path as reports show it: relative to the root, forward slashes."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def missing_paths(paths: Iterable[Path]) -> list[Path]:
    return [path for path in paths if not path.exists()]
