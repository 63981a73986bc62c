"""Reading Python sources as Python would, and writing them back byte-faithfully.

Decoding follows PEP 263 (BOM, then a coding cookie, else UTF-8) through
`tokenize.detect_encoding`, so a latin-1 module or a BOM survive a rewrite.
Line endings are never touched here: LibCST keeps them, and every byte we do
not rewrite is encoded back exactly as it was decoded.

Sources above `MAX_SOURCE_BYTES` or `MAX_SOURCE_LINES` are refused with a
`SourceError` instead of being decoded: LibCST's tree and metadata cost about
a millisecond per line, so a 50,000-line or 10 MB generated module would hold
a run for minutes (and the index for seconds) for no finding anyone wants.
The limits sit well above hand-written code: the largest module of the
standard library has about 16,000 lines and 0.8 MB.
"""

from __future__ import annotations

import codecs
import io
import os
import symtable
import tempfile
import tokenize
import tomllib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Larger sources are an error for that file, not minutes of analysis.
MAX_SOURCE_BYTES = 2_000_000
MAX_SOURCE_LINES = 30_000


def content_error(path: str, content: bytes) -> str | None:
    """Why new bytes for `path` would not parse, for the file kinds codefix writes; None when they do.

    One function for the engine (before it offers a change) and the writer
    (before it writes one the engine has not checked), so both ask the same.
    Python is checked by building the module's symbol table: CPython's own
    parser on the bytes (BOM and coding cookie decoded as on import),
    without making the tree's Python objects, half the cost of `ast.parse`
    on a large module. It refuses a little more than the parser (a
    duplicate argument, `nonlocal` at module level): what Python refuses on
    import too.
    """
    name = path.rsplit("/", 1)[-1]
    try:
        if name.endswith(".py"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                symtable.symtable(content, path, "exec")  # type: ignore[arg-type]  # bytes are accepted
        elif name.endswith(".toml"):
            tomllib.loads(content.decode("utf-8").removeprefix("\ufeff"))
    except (SyntaxError, ValueError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return f"{type(exc).__name__}: {exc}"
    except (RecursionError, MemoryError):
        return "too deeply nested to parse"
    return None


class SourceError(Exception):
    """A file that cannot be read or decoded; carries a one-line reason."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    encoding: str

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def detect_encoding(raw: bytes) -> str:
    # Most files: no BOM, and no "coding" in the two lines a cookie may be on; the tokenizer
    # (a BytesIO and a regex per file, read three times in a cold run) would say UTF-8.
    second_line_end = raw.find(b"\n", raw.find(b"\n") + 1)
    head = raw if second_line_end < 0 else raw[:second_line_end]
    if b"coding" not in head and head.isascii():  # a BOM is not ASCII
        return "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot detect encoding: {exc}") from None
    try:
        return codecs.lookup(encoding).name if encoding != "utf-8-sig" else encoding
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None


def check_size(raw: bytes) -> None:
    """Raise SourceError when `raw` is too large to analyse in bounded time."""
    if len(raw) > MAX_SOURCE_BYTES:
        megabytes = len(raw) / 1_000_000
        raise SourceError(f"too large to analyse: {megabytes:.1f} MB (codefix's limit is {MAX_SOURCE_BYTES // 1_000_000} MB)")
    if len(raw) < MAX_SOURCE_LINES:
        return  # every line takes a byte at least: counting them (twice, over the whole file) cannot find too many
    # Old Mac files end lines with CR alone; CRLF counts once either way.
    lines = max(raw.count(b"\n"), raw.count(b"\r") if b"\r" in raw else 0) + (not raw.endswith((b"\n", b"\r")) and bool(raw))
    if lines > MAX_SOURCE_LINES:
        raise SourceError(f"too large to analyse: {lines:,} lines (codefix's limit is {MAX_SOURCE_LINES:,})")


def decode_source(path: Path, raw: bytes) -> SourceFile:
    check_size(raw)
    encoding = detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot decode as {encoding}: byte {exc.start}: {exc.reason}") from None
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def read_source(path: Path) -> SourceFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(path, raw)


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable; best effort (some file systems refuse)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextmanager
def staged_replacement(path: Path, data: bytes) -> Iterator[Callable[[], None]]:
    """`data` written and fsynced beside `path`; call the yielded function to rename it over `path`.

    The temporary file lives in the same folder so the rename never crosses a
    file system, and it gets `path`'s permission bits before the rename. Left
    uncalled (or on any error), the temporary file is removed. Splitting the
    write from the rename lets a caller check the target once more right
    before replacing it.
    """
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".codefix-tmp", dir=path.parent)
    replaced = False

    def replace() -> None:
        nonlocal replaced
        os.replace(tmp_name, path)
        replaced = True

    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        yield replace
    finally:
        if not replaced:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data` in one rename, keeping its permission bits.

    A crash leaves either the old bytes or the new ones (and at worst a
    `.<name>.*.codefix-tmp` file beside it).
    """
    with staged_replacement(path, data) as replace:
        replace()
    fsync_folder(path.parent)
