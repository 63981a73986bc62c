"""A persistent cache of the project index, so a warm run parses nothing that did not change.

One JSON file under `<root>/.codefix_cache/` (git-ignored by a `.gitignore`
written inside it) maps each file's relative path to its stat signature, the
SHA-256 of its bytes and its indexed `ModuleInfo` in the compact layout of
index_codec.py (or the error it gave).
A file is reused when its size and mtime are unchanged, or, failing that,
when its content hash is (a checkout that touches files without changing
them). The file name carries codefix's version, a fingerprint of the index schema
and the codec's version, so an upgrade never reads an old layout.

JSON, not pickle: the cache lives inside a repository that someone else may
have written, and loading it must never run code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from codefix import __version__, cache_json
from codefix.index import ClassInfo, FunctionInfo, ImportRef, LocalAlias, ModuleInfo, OpaqueBinding, content_hash
from codefix.index_codec import CODEC_VERSION, decode_module, encode_module
from codefix.results_memo import CACHE_DIR
from codefix.sourcefile import write_atomically

_CLASSES = {cls.__name__: cls for cls in (ModuleInfo, FunctionInfo, ClassInfo, ImportRef, LocalAlias, OpaqueBinding)}
_SCHEMA = hashlib.sha256(
    repr([(name, [f.name for f in dataclasses.fields(cls)]) for name, cls in sorted(_CLASSES.items())]).encode()
).hexdigest()[:12]


#: What a file indexed to: its module, or the reason it could not be indexed.
Entry = ModuleInfo | str


def _encode(entry: Entry) -> Any:
    return entry if isinstance(entry, str) else encode_module(entry)


def _decode(value: Any) -> Entry:
    return value if isinstance(value, str) else decode_module(value)


def ensure_cache_folder(folder: Path) -> None:
    """Create the cache folder, git-ignored by a `.gitignore` of its own; raises OSError."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by codefix: its cache never belongs in a commit.\n*\n")


class CacheFile:
    """One JSON file of the cache folder holding a record per relative path; `save` writes only when something changed.

    Its name starts with `kind` and carries whatever versions its layout
    depends on; files of the same kind with other versions are removed when
    it is written.
    """

    def __init__(self, folder: Path, kind: str, versions: str):
        self.folder = folder
        self.kind = kind
        self.path = folder / f"{kind}-{versions}.json"
        self._entries: dict[str, Any] = {}
        self._dirty = False
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(document, dict) and isinstance(document.get("files"), dict):
            self._entries = document["files"]

    def forget_missing(self, present: set[str]) -> None:
        for relative in [r for r in self._entries if r not in present]:
            del self._entries[relative]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        try:
            ensure_cache_folder(self.folder)
            for stale in self.folder.glob(f"{self.kind}-*.json"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            write_atomically(self.path, cache_json.dumps({"files": self._entries}))
        except OSError:
            pass  # a read-only checkout still gets its scan; only the speed-up is lost

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)


class IndexCache(CacheFile):
    """Index entries by relative path."""

    def __init__(self, root: Path, folder: Path | None = None):
        #: `cache-dir` of the configuration (relative to the root), else `.codefix_cache`.
        super().__init__(root / (folder or CACHE_DIR), "index", f"{__version__}-{_SCHEMA}-{CODEC_VERSION}")
        self.hits = 0
        self.misses = 0

    def lookup(self, relative: str, signature: tuple[int, int], read: Callable[[], bytes]) -> Entry | None:
        """The cached entry if the file is unchanged; `read` is called only when its stat changed."""
        record = self._entries.get(relative)
        if record is None:
            self.misses += 1
            return None
        stat_signature, digest, encoded = record
        if tuple(stat_signature) != signature:
            try:
                if content_hash(read()) != digest:
                    self.misses += 1
                    return None
            except OSError:
                self.misses += 1
                return None
            record[0] = list(signature)
            self._dirty = True
        self.hits += 1
        try:
            return _decode(encoded)
        except (KeyError, TypeError, ValueError, IndexError):
            self.misses += 1
            return None

    def store(self, relative: str, signature: tuple[int, int], digest: str, entry: Entry) -> None:
        self._entries[relative] = [list(signature), digest, _encode(entry)]
        self._dirty = True
