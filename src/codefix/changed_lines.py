"""Which lines of the working tree changed since a git revision, and how lines move between two versions of a file.

`codefix scan --since REV` reports only findings on lines that `git diff REV`
shows as added or modified. The diff is taken between REV and the working
tree, so staged and unstaged edits both count. Untracked files (those git
does not ignore) count too: they are marked intent-to-add in a *temporary
copy* of the index, never in the user's own, so their lines show up as added
and a file moved with a plain `mv` is still paired with its old name by
rename detection (`-M`). A renamed file's unchanged lines are not new; a pure
deletion marks no line (the lines that remain were not written in it).

The diff is read with every option that user configuration could otherwise
change pinned down (prefixes, colour, external and textconv drivers, relative
paths, path quoting), and file names are taken from the `+++ b/` lines, which
git C-quotes when a name holds a tab, a quote or a control character.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codefix.patch import (
    _unquote as unquote_header_name,  # git's quoting of a diff header name
)
from codefix.patch import split_lines

_HUNK_HEADER = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(Exception):
    """git cannot tell what changed (no repository, unknown revision, no git); one line for the user."""


@dataclass(frozen=True)
class ChangedLines:
    """Line numbers (1-based, in the working-tree file) added or modified since `revision`, per file."""

    revision: str
    #: Paths relative to the project root, with forward slashes.
    lines: dict[str, frozenset[int]] = field(default_factory=dict)

    def touches(self, path: str, first: int, last: int) -> bool:
        """True when any line from `first` to `last` (inclusive) changed in `path`."""
        changed = self.lines.get(path)
        if not changed:
            return False
        return any(line in changed for line in range(first, last + 1))


def _git(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None, data: bytes | None = None) -> bytes:
    try:
        completed = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            input=data,
            capture_output=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
    except FileNotFoundError:
        raise GitError("--since needs git, which was not found on PATH") from None
    if completed.returncode != 0:
        message = " ".join(completed.stderr.decode("utf-8", "replace").split()) or f"exit status {completed.returncode}"
        raise GitError(f"git {args[0]} failed: {message}")
    return completed.stdout


def _toplevel(root: Path) -> Path:
    try:
        output = _git(["rev-parse", "--show-toplevel"], root)
    except GitError as exc:
        if "not a git repository" in str(exc).lower():
            raise GitError(f"--since needs a git repository, and {root} is not in one") from None
        raise
    return Path(os.fsdecode(output.rstrip(b"\n")))


def _resolve_revision(root: Path, revision: str) -> str:
    """The commit id of `revision`; refuses what git would read as an option."""
    if not revision or revision.startswith("-"):
        raise GitError(f"--since: {revision!r} is not a git revision")
    try:
        output = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], root)
    except GitError:
        raise GitError(f"--since: unknown git revision {revision!r}") from None
    return output.decode().strip()


def _temporary_index(root: Path, folder: Path) -> dict[str, str]:
    """An environment pointing git at a copy of the index, with untracked files under `root` intent-to-add."""
    index = root / os.fsdecode(_git(["rev-parse", "--git-path", "index"], root).rstrip(b"\n"))
    copy = folder / "index"
    if index.is_file():
        shutil.copyfile(index, copy)
    env = {"GIT_INDEX_FILE": str(copy)}
    listed = _git(["ls-files", "-z", "--others", "--exclude-standard", "--", "."], root)
    # A nested repository is listed as its folder ("sub/"): it is not a file to diff.
    untracked = [name for name in listed.split(b"\0") if name and not name.endswith(b"/")]
    if untracked:
        _git(
            ["--literal-pathspecs", "add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"],
            root,
            env,
            b"\0".join(untracked) + b"\0",
        )
    return env


def parse_diff(diff: bytes) -> dict[str, frozenset[int]]:
    """New-side line numbers of each file in a `--unified=0` git diff, keyed by its path after `b/`."""
    lines: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.split(b"\n"):
        if line.startswith(b"diff --git "):
            current = None
        elif line.startswith(b"+++ ") and current is None:
            name = line[4:].rstrip(b"\r")
            # /dev/null: a deleted file. Otherwise `b/name`, C-quoted when needed,
            # with git's closing tab after a name holding a space.
            current = set() if name == b"/dev/null" else lines.setdefault(unquote_header_name(name), set())
        elif line.startswith(b"@@") and current is not None:
            match = _HUNK_HEADER.match(line)
            if match is None:
                continue
            start, count = int(match.group(1)), int(match.group(2) or b"1")
            current.update(range(start, start + count))
    return {path: frozenset(numbers) for path, numbers in lines.items() if numbers}


def changed_lines(root: Path, revision: str) -> ChangedLines:
    """What changed under the project `root` between `revision` and the working tree.

    Raises GitError when `root` is not in a git repository, the revision does
    not name a commit, or git is missing.
    """
    root = root.resolve()
    toplevel = _toplevel(root).resolve()
    commit = _resolve_revision(root, revision)
    with tempfile.TemporaryDirectory(prefix="codefix-index-") as folder:
        env = _temporary_index(root, Path(folder))
        diff = _git(
            [
                "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--no-relative",
                "--src-prefix=a/", "--dst-prefix=b/", commit, "--", ".",
            ],
            root,
            env,
        )
    by_path: dict[str, frozenset[int]] = {}
    for name, numbers in parse_diff(diff).items():
        absolute = toplevel / name
        if absolute.is_relative_to(root):
            by_path[absolute.relative_to(root).as_posix()] = numbers
    return ChangedLines(revision, by_path)


def line_mapper(old: bytes, new: bytes) -> Callable[[int], int]:
    """A function taking a 1-based line of `old` to the line holding it (or what replaced it) in `new`.

    Used to place a finding reported on one version of a file (the fixed
    text) on another (the text on disk). Lines inside a changed block map to
    the matching line of its replacement, clamped to the block; a deleted
    line maps to the line that followed it.
    """
    old_lines, new_lines = split_lines(old), split_lines(new)
    opcodes = difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes()
    last = max(len(new_lines), 1)

    def mapped(line: int) -> int:
        index = line - 1
        for tag, i1, i2, j1, j2 in opcodes:
            if i1 <= index < i2:
                if tag == "equal":
                    return j1 + (index - i1) + 1
                return min(j1 + min(index - i1, max(j2 - j1 - 1, 0)) + 1, last)
        return min(line, last)

    return mapped
