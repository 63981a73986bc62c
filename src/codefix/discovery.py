"""Where the project is and which Python files belong to it.

Name resolution needs the whole project even when the user names one file
(pre-commit passes only the staged ones), so discovery answers two questions:
the project root and its files, and the subset the user asked to report on.

Folder walks skip what is not the project's own code: the folders in
`EXCLUDED_DIRS`, and whatever the `.gitignore` files (and
`.git/info/exclude`) say git ignores. Ignore files are read from the top of
the git work tree (or, outside git, the project root) down to each folder,
with git's own precedence: a deeper file overrides a shallower one, the last
matching line of a file wins, and a file inside an ignored folder cannot be
re-included. The patterns are matched by `pathspec`, which implements git's
wildmatch rules. A file named explicitly on the command line is always
scanned, ignored or not. Git's global excludes (`core.excludesFile`) are
personal settings and are not read.

Symlinked folders are not followed (a link may lead anywhere, or in a
circle); a symlinked file is a target under its real path, so two links to
one file make one target.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

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


def _lexical_absolute(path: Path) -> Path:
    """`path` made absolute without following symlinks (`..` is folded the way the shell does)."""
    return Path(os.path.abspath(path))


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pyproject.toml or .git, resolved.

    The search climbs from where the user points, not from where a symlink
    leads: a linked folder inside a project belongs to that project, so files
    reached through the link resolve outside the root and are never written.
    """
    start = _lexical_absolute(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return _resolved(candidate)
    return _resolved(folder)


def _resolved(path: Path) -> Path:
    """`path.resolve()`, or the absolute path when links loop (RuntimeError on Python 3.11)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return _lexical_absolute(path)


def is_excluded_dir(name: str) -> bool:
    return name in EXCLUDED_DIRS or name.endswith(".egg-info")


@dataclass(frozen=True)
class _IgnoreFile:
    """The patterns of one ignore file, and the folder they are relative to."""

    base: Path
    spec: pathspec.GitIgnoreSpec

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True ignored, False re-included by a `!` line, None when no line matches."""
        relative = path.relative_to(self.base).as_posix() + ("/" if is_dir else "")
        return self.spec.check_file(relative).include


def _read_ignore_file(base: Path, file: Path) -> _IgnoreFile | None:
    if not file.is_file():
        return None
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError):  # a pattern git would ignore as malformed
        return None
    return _IgnoreFile(base, spec) if spec.patterns else None


def _ignore_top(folder: Path) -> Path:
    """Where ignore files start to apply: the git work tree's top, else the project root (else `folder`)."""
    for markers in ((".git",), ROOT_MARKERS):
        for candidate in (folder, *folder.parents):
            if any((candidate / marker).exists() for marker in markers):
                return candidate
    return folder


def _inherited_ignores(folder: Path) -> list[_IgnoreFile]:
    """The ignore files that apply inside `folder`, its own included, shallowest first."""
    top = _ignore_top(folder)
    found = [_read_ignore_file(top, top / ".git" / "info" / "exclude")]
    for base in reversed((folder, *folder.parents)):
        if base.is_relative_to(top):
            found.append(_read_ignore_file(base, base / ".gitignore"))
    return [item for item in found if item is not None]


def is_ignored(path: Path, is_dir: bool, ignores: Sequence[_IgnoreFile]) -> bool:
    """Git's verdict on `path`: the deepest ignore file with a matching line decides."""
    for ignore in reversed(ignores):
        verdict = ignore.verdict(path, is_dir)
        if verdict is not None:
            return verdict
    return False


def iter_python_files(folder: Path, errors: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """Every `.py` file under `folder`, skipping excluded and git-ignored paths, in a stable order.

    Folders that cannot be listed are skipped; with `errors`, each is added
    there with its reason, for the caller to report.
    """
    folder = _lexical_absolute(folder)
    inherited = _inherited_ignores(folder)
    ignores_of: dict[Path, list[_IgnoreFile]] = {}

    def unlistable(exc: OSError) -> None:
        if errors is not None:
            errors.append((Path(exc.filename or folder), f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unlistable):
        here = Path(dirpath)
        ignores = ignores_of.pop(here, inherited)
        own = _read_ignore_file(here, here / ".gitignore") if here != folder and ".gitignore" in filenames else None
        if own is not None:
            ignores = [*ignores, own]
        kept = []
        for name in sorted(dirnames):
            if is_excluded_dir(name) or is_ignored(here / name, True, ignores):
                continue
            kept.append(name)
            ignores_of[here / name] = ignores
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            if name.endswith(".py") and not is_ignored(path, False, ignores) and (not path.is_symlink() or _resolvable(path)):
                yield path


def _resolvable(path: Path) -> bool:
    """False for a symlink loop, which no reader can follow (and Path.resolve raises on)."""
    try:
        path.resolve()
    except (OSError, RuntimeError):
        return False
    return True


def select_files(paths: Sequence[Path], errors: list[tuple[Path, str]] | None = None) -> list[Path]:
    """The Python files named by the user: files as given, folders walked; each real file once.

    With `errors`, folders that could not be listed are added there (see `iter_python_files`).
    """
    seen: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for file in iter_python_files(path, errors):
                seen.setdefault(_resolved(file), None)
        elif path.suffix == ".py" and _resolvable(path):
            seen.setdefault(_resolved(path), None)
    return list(seen)


def relative_name(path: Path, root: Path) -> str:
    """The path as reports show it: relative to the root, forward slashes."""
    resolved = _resolved(path)
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


def missing_paths(paths: Iterable[Path]) -> list[Path]:
    return [path for path in paths if not path.exists()]
