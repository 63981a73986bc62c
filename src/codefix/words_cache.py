"""The screening's module words of each file, kept between runs, so a run after an edit reads one file, not all.

The screening (screening.py) must know every word that may name a module in
every file of the project, since any file may start importing another; that
meant reading and searching the whole tree on every run, which made a
pre-commit run on one edited file grow with the project (2.6 s at 10,000
files, 7.7 s at 40,000). The words of a file depend on its text alone, so
they are kept by relative path with the file's stat signature, as the index
cache keeps entries, and a file whose size and mtime are unchanged is not
read. JSON, never pickle: the cache lives in a checkout someone else may have
written. The file name carries codefix's version and `lexical.VERSION`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codefix import __version__, cache_json
from codefix.index_cache import ensure_cache_folder
from codefix.lexical import VERSION
from codefix.sourcefile import write_atomically


class WordsCache:
    """Module words by relative path and stat signature; `save` writes only when something changed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / f"words-{__version__}-{VERSION}.json"
        self._files: dict[str, list[Any]] = {}
        self._dirty = False
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(document, dict) and isinstance(document.get("files"), dict):
            self._files = document["files"]

    def lookup(self, relative: str, signature: tuple[int, int]) -> set[str] | None:
        record = self._files.get(relative)
        if not isinstance(record, list) or len(record) != 2 or record[0] != list(signature):
            return None
        words = record[1]
        return set(words) if isinstance(words, list) and all(isinstance(word, str) for word in words) else None

    def store(self, relative: str, signature: tuple[int, int], words: set[str]) -> None:
        self._files[relative] = [list(signature), sorted(words)]
        self._dirty = True

    def forget_missing(self, present: set[str]) -> None:
        for relative in [r for r in self._files if r not in present]:
            del self._files[relative]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        try:
            ensure_cache_folder(self.folder)
            for stale in self.folder.glob("words-*.json"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            write_atomically(self.path, cache_json.dumps({"files": self._files}))
        except OSError:
            pass  # a read-only checkout still gets its scan; only the speed-up is lost
