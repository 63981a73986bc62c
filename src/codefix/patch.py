"""Reversible patches: written by every apply, read back by `codefix revert`.

A patch is a plain unified diff with `a/` and `b/` paths relative to the
project root, so `git apply -R` and `patch -p1 -R` undo it without codefix.
Before the first diff it carries `# codefix-file:` lines with the SHA-256 of
each file before and after; git and patch skip such lines, and `revert` uses
them to refuse when a file changed since the patch was made.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codefix.sourcefile import write_atomically
from codefix.types import FileChange

_NO_NEWLINE = b"\\ No newline at end of file\n"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FILE_LINE = re.compile(r"^# codefix-file: sha256:([0-9a-f]{64}) sha256:([0-9a-f]{64}) (.+)$")


class PatchError(Exception):
    """A patch that cannot be read or reverted; its text is one line for the user."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_lines(data: bytes) -> list[bytes]:
    """Lines with their endings, split on LF only so CRLF pairs stay whole."""
    if not data:
        return []
    lines = data.split(b"\n")
    result = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def _quote(path: str) -> str:
    return path + "\t" if " " in path else path


def file_diff(change: FileChange, context_lines: int = 3) -> bytes:
    """The unified diff of one change, byte-exact, with a git header."""
    old = f"a/{change.path}"
    new = f"b/{change.path}"
    out: list[bytes] = [f"diff --git {old} {new}\n".encode()]
    body = difflib.diff_bytes(
        difflib.unified_diff,
        split_lines(change.before),
        split_lines(change.after),
        fromfile=_quote(old).encode(),
        tofile=_quote(new).encode(),
        n=context_lines,
        lineterm=b"",
    )
    for number, line in enumerate(body):
        if number < 3:  # ---, +++ and the first @@ lines come without terminator
            out.append(line + b"\n")
        elif line.startswith(b"@@"):
            out.append(line + b"\n")
        elif line.endswith(b"\n"):
            out.append(line)
        else:
            out.append(line + b"\n" + _NO_NEWLINE)
    return b"".join(out)


def make_patch(changes: Sequence[FileChange], title: str = "") -> bytes:
    header = [f"# codefix patch{': ' + title if title else ''}\n".encode()]
    header.extend(
        f"# codefix-file: sha256:{sha256(c.before)} sha256:{sha256(c.after)} {c.path}\n".encode()
        for c in changes
    )
    return b"".join(header) + b"".join(file_diff(change) for change in changes)


def render_diff(changes: Iterable[FileChange]) -> str:
    """The diff for a person to read, each file decoded with its own encoding."""
    return "".join(file_diff(c).decode(c.encoding if c.encoding != "utf-8-sig" else "utf-8", "replace") for c in changes)


def default_patch_path(root: Path, now: _dt.datetime | None = None) -> Path:
    """`.codefix/patches/<UTC timestamp>.patch`, never reusing an existing name."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    folder = root / ".codefix" / "patches"
    stem = now.strftime("%Y%m%dT%H%M%S.%fZ")
    candidate = folder / f"{stem}.patch"
    counter = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}.patch"
        counter += 1
    return candidate


def save_patch(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    codefix_dir = path.parent.parent
    if codefix_dir.name == ".codefix" and not (codefix_dir / ".gitignore").exists():
        (codefix_dir / ".gitignore").write_text("# Written by codefix: undo patches stay out of commits.\n*\n")
    write_atomically(path, data)


@dataclass(frozen=True)
class FilePatch:
    path: str
    before_hash: str | None
    after_hash: str | None
    #: (old_start, new_start, lines), lines keep their ' ', '-', '+' prefix.
    hunks: tuple[tuple[int, int, tuple[bytes, ...]], ...]


def _unquote(name: bytes) -> str:
    text = name.decode("utf-8", "surrogateescape").rstrip("\n").split("\t")[0]
    for prefix in ("a/", "b/"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def parse_patch(data: bytes) -> list[FilePatch]:
    hashes: dict[str, tuple[str, str]] = {}
    for raw in data.split(b"\n"):
        match = _FILE_LINE.match(raw.decode("utf-8", "replace"))
        if match:
            hashes[match.group(3)] = (match.group(1), match.group(2))
    lines = split_lines(data)
    patches: list[FilePatch] = []
    position = 0
    while position < len(lines):
        line = lines[position]
        if not (line.startswith(b"--- ") and position + 1 < len(lines) and lines[position + 1].startswith(b"+++ ")):
            position += 1
            continue
        path = _unquote(lines[position + 1][4:])
        position += 2
        hunks: list[tuple[int, int, tuple[bytes, ...]]] = []
        while position < len(lines) and lines[position].startswith(b"@@"):
            match = _HUNK.match(lines[position])
            if match is None:
                raise PatchError(f"malformed hunk header in {path}")
            old_len = int(match.group(2) or b"1")
            new_len = int(match.group(4) or b"1")
            position += 1
            body: list[bytes] = []
            old_seen = new_seen = 0
            while position < len(lines) and (old_seen < old_len or new_seen < new_len or lines[position].startswith(b"\\")):
                current = lines[position]
                if current.startswith(b"\\"):
                    if body:
                        body[-1] = body[-1][:-1] if body[-1].endswith(b"\n") else body[-1]
                    position += 1
                    continue
                kind = current[:1]
                if kind not in (b" ", b"-", b"+"):
                    raise PatchError(f"malformed hunk line in {path}")
                old_seen += kind in (b" ", b"-")
                new_seen += kind in (b" ", b"+")
                body.append(current)
                position += 1
            hunks.append((int(match.group(1)), int(match.group(3)), tuple(body)))
        before_hash, after_hash = hashes.get(path, (None, None))
        patches.append(FilePatch(path, before_hash, after_hash, tuple(hunks)))
    if not patches:
        raise PatchError("no file diffs found in the patch")
    return patches


def reverse_apply(current: bytes, patch: FilePatch) -> bytes | None:
    """The file as it was before the patch, or None when `current` does not match it."""
    lines = split_lines(current)
    result: list[bytes] = []
    cursor = 0  # index into lines, 0-based
    for _old_start, new_start, body in patch.hunks:
        start = max(new_start - 1, 0) if any(l[:1] in (b" ", b"+") for l in body) else new_start
        if start < cursor:
            return None
        result.extend(lines[cursor:start])
        cursor = start
        for entry in body:
            kind, content = entry[:1], entry[1:]
            if kind in (b" ", b"+"):
                if cursor >= len(lines) or lines[cursor] != content:
                    return None
                cursor += 1
            if kind in (b" ", b"-"):
                result.append(content)
    result.extend(lines[cursor:])
    return b"".join(result)


def safe_relative(path: str) -> PurePosixPath | None:
    """The patch path if it stays inside the project root, else None."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return pure


def plan_revert(root: Path, data: bytes) -> list[tuple[Path, bytes]]:
    """What reverting would write, checked in full before anything is written.

    Raises PatchError naming the first file that changed since the patch, or
    a path that would leave the project root.
    """
    plan: list[tuple[Path, bytes]] = []
    resolved_root = root.resolve()
    for patch in parse_patch(data):
        relative = safe_relative(patch.path)
        if relative is None:
            raise PatchError(f"{patch.path}: refusing a path outside the project root")
        target = root / relative
        if not target.resolve().is_relative_to(resolved_root):
            raise PatchError(f"{patch.path}: refusing a path that leads outside the project root")
        try:
            current = target.read_bytes()
        except OSError as exc:
            raise PatchError(f"{patch.path}: cannot read: {exc.strerror or exc}") from None
        if patch.after_hash is not None and sha256(current) != patch.after_hash:
            raise PatchError(f"{patch.path}: changed since the patch was made; nothing reverted")
        original = reverse_apply(current, patch)
        if original is None:
            raise PatchError(f"{patch.path}: changed since the patch was made; nothing reverted")
        if patch.before_hash is not None and sha256(original) != patch.before_hash:
            raise PatchError(f"{patch.path}: reversing the patch does not give the original; nothing reverted")
        plan.append((target, original))
    return plan


def revert(root: Path, data: bytes) -> list[Path]:
    plan = plan_revert(root, data)
    for target, original in plan:
        write_atomically(target, original)
    return [target for target, _ in plan]
