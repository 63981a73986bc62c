"""`--output-file`: the report written whole or not at all.

The report goes to a temporary file beside the target, is flushed to disk,
then renamed over it, so a CI step that reads the file never sees half a
report, and a failed write leaves the previous one in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_report(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8); raises OSError, leaving no temporary file behind."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, _mode_for(path))
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    """The mode the file has, or the one a plain `open` would give it (mkstemp's is 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
