"""Reversible patches: written by every apply, read back by `codefix revert`.

A patch is a plain unified diff with `a/` and `b/` paths relative to the
project root, so `git apply -R` and `patch -p1 -R` undo it without codefix.
Before the first diff it carries `# codefix-file:` lines with the SHA-256 of
each file before and after; git and patch skip such lines, and `revert` uses
them to refuse when a file changed since the patch was made.

While `apply` writes, the patch is a journal instead (see `codefix.writer`):
for each file, a `# codefix-pending: sha256:<before> sha256:<after> <size>
<path>` line and the file's diff of exactly <size> bytes, appended before the
file is replaced, then that file's `# codefix-file:` line once it has been.
A run that ends rewrites the journal as a plain patch; a run that was killed
leaves it as it was, and `revert` reads it: a record with its `# codefix-file:`
line is a file that was written and is reverted as strictly as a plain patch;
a record without one (the file in hand when the run died, or one that was
then left alone because it had changed or could not be replaced) is reverted
only if its file holds exactly that record's new bytes; a record cut short by
the kill never had its file touched and is ignored.

Paths are written as UTF-8, with file-name bytes that are not UTF-8 kept
through `surrogateescape`, so every name the file system allows round-trips.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codefix.sourcefile import write_atomically
from codefix.types import FileChange

_NO_NEWLINE = b"\\ No newline at end of file\n"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FILE_LINE = re.compile(r"^# codefix-file: sha256:([0-9a-f]{64}) sha256:([0-9a-f]{64}) (.+)$")
_PENDING_LINE = re.compile(rb"^# codefix-pending: sha256:([0-9a-f]{64}) sha256:([0-9a-f]{64}) (\d+) ([^\n]+)\n", re.MULTILINE)


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


def encode_path(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


_C_ESCAPES = {ord("\t"): b"\\t", ord("\n"): b"\\n", ord('"'): b'\\"', ord("\\"): b"\\\\"}
_C_UNESCAPES = {b"t": 9, b"n": 10, b'"': 34, b"\\": 92, b"a": 7, b"b": 8, b"f": 12, b"r": 13, b"v": 11}


def _needs_c_quote(raw: bytes) -> bool:
    return any(byte < 0x20 or byte == 0x7F or byte in b'"\\' for byte in raw)


def _c_quote(raw: bytes) -> bytes:
    """Git's quoting of a name with a tab, a quote, a backslash or control characters: `"a/x\\ty"`."""
    out = bytearray(b'"')
    for byte in raw:
        if byte in _C_ESCAPES:
            out += _C_ESCAPES[byte]
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


def _header_name(name: str, diff_line: bool = False) -> bytes:
    """A name as git writes it in headers: C-quoted when needed; on ---/+++ lines a space asks for a closing tab."""
    raw = encode_path(name)
    if _needs_c_quote(raw):
        return _c_quote(raw)
    return raw + b"\t" if b" " in raw and not diff_line else raw


def file_diff(change: FileChange, context_lines: int = 3) -> bytes:
    """The unified diff of one change, byte-exact, with a git header."""
    old = f"a/{change.path}"
    new = f"b/{change.path}"
    out: list[bytes] = [b"diff --git " + _header_name(old, True) + b" " + _header_name(new, True) + b"\n"]
    before = split_lines(change.before)
    after = split_lines(change.after)
    groups = _hunk_groups(_opcodes(before, after), context_lines)
    if groups:
        out.append(b"--- " + _header_name(old) + b"\n")
        out.append(b"+++ " + _header_name(new) + b"\n")
    for group in groups:
        first, last = group[0], group[-1]
        out.append(b"@@ -" + _hunk_range(first[1], last[2]) + b" +" + _hunk_range(first[3], last[4]) + b" @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(_diff_line(b" ", line) for line in before[i1:i2])
                continue
            out.extend(_diff_line(b"-", line) for line in before[i1:i2])
            out.extend(_diff_line(b"+", line) for line in after[j1:j2])
    return b"".join(out)


def _diff_line(prefix: bytes, line: bytes) -> bytes:
    return prefix + line if line.endswith(b"\n") else prefix + line + b"\n" + _NO_NEWLINE


def _opcodes(before: list[bytes], after: list[bytes]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, matched only between the first and the last changed line.

    A fix changes a few lines of a file of thousands; difflib indexing and
    matching every line cost most of an apply's writing (twice per file, for
    the journal and the patch). The lines the two sides share at the start
    and at the end are equal whatever difflib would pair them with.
    """
    shortest = min(len(before), len(after))
    prefix = 0
    while prefix < shortest and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    middle = difflib.SequenceMatcher(None, before[prefix : len(before) - suffix], after[prefix : len(after) - suffix])
    codes = [("equal", 0, prefix, 0, prefix)] if prefix else []
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        codes.append((tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix))
    if suffix:
        codes.append(("equal", len(before) - suffix, len(before), len(after) - suffix, len(after)))
    merged: list[tuple[str, int, int, int, int]] = []
    for code in codes:
        if merged and code[0] == "equal" and merged[-1][0] == "equal":
            tag, i1, _, j1, _ = merged[-1]
            merged[-1] = (tag, i1, code[2], j1, code[4])
        else:
            merged.append(code)
    return merged


def _hunk_groups(
    codes: list[tuple[str, int, int, int, int]], context: int
) -> list[list[tuple[str, int, int, int, int]]]:
    """The opcodes of each hunk: changes with `context` equal lines around, split where more lie between."""
    if not any(tag != "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[tuple[str, int, int, int, int]]] = []
    group: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = i2 - context, j2 - context
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _hunk_range(start: int, stop: int) -> bytes:
    """A side's range in a hunk header: `first,count`, the count left out when 1, `start,0` when empty."""
    count = stop - start
    if count == 1:
        return b"%d" % (start + 1)
    return b"%d,%d" % (start + 1 if count else start, count)


def _title_line(title: str) -> bytes:
    return f"# codefix patch{': ' + title if title else ''}\n".encode()


def file_line(change: FileChange) -> bytes:
    """`# codefix-file:` with the hashes before and after: in a journal, the record's commit line."""
    return f"# codefix-file: sha256:{sha256(change.before)} sha256:{sha256(change.after)} ".encode() + encode_path(change.path) + b"\n"


def make_patch(changes: Sequence[FileChange], title: str = "", diffs: Mapping[str, bytes] | None = None) -> bytes:
    """The plain patch of `changes`; `diffs`: their `file_diff`s already made, by path (the writer's journal made them)."""
    diffs = diffs or {}
    header = [_title_line(title), *(file_line(c) for c in changes)]
    return b"".join(header) + b"".join(diffs.get(change.path) or file_diff(change) for change in changes)


def journal_header(title: str = "") -> bytes:
    return _title_line(title) + (
        b"# codefix journal: apply was writing these files when this was saved; "
        b"`codefix revert` undoes exactly the ones written\n"
    )


def pending_record(change: FileChange, diff: bytes | None = None) -> bytes:
    """A journal record written before `change`'s file is replaced: what will change, and how (`diff`, if made)."""
    diff = diff if diff is not None else file_diff(change)
    line = f"# codefix-pending: sha256:{sha256(change.before)} sha256:{sha256(change.after)} {len(diff)} "
    return line.encode() + encode_path(change.path) + b"\n" + diff


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


def prepare_patch_folder(path: Path) -> None:
    """Create the patch's folder; under `.codefix/`, also a `.gitignore` that keeps patches out of commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codefix_dir = path.parent.parent
    if codefix_dir.name == ".codefix" and not (codefix_dir / ".gitignore").exists():
        (codefix_dir / ".gitignore").write_text("# Written by codefix: undo patches stay out of commits.\n*\n")


def save_patch(path: Path, data: bytes) -> None:
    prepare_patch_folder(path)
    write_atomically(path, data)


@dataclass(frozen=True)
class FilePatch:
    path: str
    before_hash: str | None
    after_hash: str | None
    #: (old_start, new_start, lines), lines keep their ' ', '-', '+' prefix.
    hunks: tuple[tuple[int, int, tuple[bytes, ...]], ...]


def _c_unquote(quoted: bytes) -> bytes:
    """The bytes of a C-quoted name (opening quote included), up to its closing quote."""
    out = bytearray()
    position = 1
    while position < len(quoted) and quoted[position:position + 1] != b'"':
        byte = quoted[position:position + 1]
        if byte != b"\\":
            out += byte
            position += 1
            continue
        escape = quoted[position + 1:position + 2]
        if escape.isdigit():
            out.append(int(quoted[position + 1:position + 4], 8) & 0xFF)
            position += 4
        else:
            out.append(_C_UNESCAPES.get(escape, escape[0] if escape else 92))
            position += 2
    return bytes(out)


def _unquote(name: bytes) -> str:
    name = name.rstrip(b"\n")
    raw = _c_unquote(name) if name.startswith(b'"') else name.split(b"\t")[0]
    text = decode_path(raw)
    for prefix in ("a/", "b/"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def parse_patch(data: bytes) -> list[FilePatch]:
    hashes: dict[str, tuple[str, str]] = {}
    for raw in data.split(b"\n"):
        match = _FILE_LINE.match(decode_path(raw))
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
    """The patch path if it stays inside the project root (and can name a file at all), else None."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\x00" in path:
        return None
    return pure


def read_journal(data: bytes) -> tuple[list[FilePatch], list[FilePatch]]:
    """The records of a journal left by an interrupted apply: (committed, pending).

    A record whose diff was cut short is dropped: its file was never replaced,
    since a file is replaced only after its record is complete on disk.
    """
    committed: list[FilePatch] = []
    pending: list[FilePatch] = []
    position = 0
    while (match := _PENDING_LINE.search(data, position)) is not None:
        start = match.end()
        end = start + int(match.group(3))
        if end > len(data):
            break
        path = decode_path(match.group(4))
        parsed = parse_patch(data[start:end])
        if len(parsed) != 1 or parsed[0].path != path:
            raise PatchError(f"{path}: malformed journal record")
        before, after = match.group(1).decode(), match.group(2).decode()
        record = FilePatch(path, before, after, parsed[0].hunks)
        commit = f"# codefix-file: sha256:{before} sha256:{after} ".encode() + match.group(4) + b"\n"
        if data.startswith(commit, end):
            committed.append(record)
            end += len(commit)
        else:
            pending.append(record)
        position = end
    return committed, pending


def is_journal(data: bytes) -> bool:
    return _PENDING_LINE.search(data) is not None


def _revert_target(root: Path, resolved_root: Path, path: str, seen: dict[Path, str]) -> Path:
    """The real file a patch path names, refusing paths that leave the root and files named twice."""
    relative = safe_relative(path)
    if relative is None:
        raise PatchError(f"{path}: refusing a path outside the project root")
    try:
        target = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise PatchError(f"{path}: cannot resolve: {exc}") from None
    if not target.is_relative_to(resolved_root):
        raise PatchError(f"{path}: refusing a path that leads outside the project root")
    if target in seen:
        raise PatchError(f"{path}: the same file as {seen[target]}; nothing reverted")
    seen[target] = path
    return target


def _read_current(path: str, target: Path) -> bytes:
    try:
        return target.read_bytes()
    except OSError as exc:
        raise PatchError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _original(patch: FilePatch, current: bytes) -> bytes:
    if patch.after_hash is not None and sha256(current) != patch.after_hash:
        raise PatchError(f"{patch.path}: changed since the patch was made; nothing reverted")
    original = reverse_apply(current, patch)
    if original is None:
        raise PatchError(f"{patch.path}: changed since the patch was made; nothing reverted")
    if patch.before_hash is not None and sha256(original) != patch.before_hash:
        raise PatchError(f"{patch.path}: reversing the patch does not give the original; nothing reverted")
    return original


def plan_revert(root: Path, data: bytes) -> list[tuple[Path, bytes]]:
    """What reverting would write (real paths, original bytes), checked in full before anything is written.

    Raises PatchError naming the first file that changed since the patch, a
    path that would leave the project root (absolute, `..`, or through a
    symlink), or a file named twice. A journal's pending record is planned
    only when its file holds exactly the record's new bytes.
    """
    committed, pending = read_journal(data) if is_journal(data) else (parse_patch(data), [])
    resolved_root = root.resolve()
    seen: dict[Path, str] = {}
    plan: list[tuple[Path, bytes]] = []
    already: list[str] = []
    for patch in committed:
        target = _revert_target(root, resolved_root, patch.path, seen)
        current = _read_current(patch.path, target)
        if patch.before_hash is not None and sha256(current) == patch.before_hash:
            already.append(patch.path)  # reverted by an earlier revert that was interrupted
            continue
        plan.append((target, _original(patch, current)))
    for patch in pending:
        target = _revert_target(root, resolved_root, patch.path, seen)
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise PatchError(f"{patch.path}: cannot read: {exc.strerror or exc}") from None
        if sha256(current) == patch.after_hash:
            plan.append((target, _original(patch, current)))
    if already and not plan:
        raise PatchError(
            f"{already[0]}: already holds its bytes from before the patch (a dry-run patch, or one reverted already); nothing reverted"
        )
    return plan


def revert(root: Path, data: bytes) -> list[Path]:
    """Write the plan; symlinks inside the project are written through, so they stay links.

    Files the patch changed that already hold their original bytes are
    skipped, so a revert that was interrupted (or failed on one file) is
    finished by running it again.
    """
    plan = plan_revert(root, data)
    for number, (target, original) in enumerate(plan):
        try:
            write_atomically(target, original)
        except OSError as exc:
            done = f"{number} of {len(plan)} files reverted; fix this one and run revert again to finish"
            raise PatchError(f"{target}: cannot write: {exc.strerror or exc}; {done}") from None
    return [target for target, _ in plan]
