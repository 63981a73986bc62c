"""Reading Python sources as Python would, and writing them back byte-faithfully.

Decoding follows PEP 263 (BOM, then a coding cookie, else UTF-8) through
`tokenize.detect_encoding`, so a latin-1 module or a BOM survive a rewrite.
Line endings are never touched here: LibCST keeps them, and every byte we do
not rewrite is encoded back exactly as it was decoded.
"""

from __future__ import annotations

import codecs
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


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
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot detect encoding: {exc}") from None
    try:
        return codecs.lookup(encoding).name if encoding != "utf-8-sig" else encoding
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None


def decode_source(path: Path, raw: bytes) -> SourceFile:
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


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data` in one rename, keeping its permission bits.

    The temporary file lives in the same folder so the rename never crosses a
    file system; a crash leaves either the old bytes or the new ones.
    """
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".codefix-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
