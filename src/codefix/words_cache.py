"""The screening's module words of each file, kept between runs, so a run after an edit reads one file, not all.

The screening (screening.py) must know every word that may name a module in
every file of the project, since any file may start importing another; that
meant reading and searching the whole tree on every run, which made a
pre-commit run on one edited file grow with the project (2.6 s at 10,000
files, 7.7 s at 40,000). The words of a file depend on its text alone, so
they are kept by relative path with the file's stat signature, as the index
cache keeps entries, and a file whose size and mtime are unchanged is not
read. JSON, never pickle: the cache lives in a checkout someone else may have
written. The file name carries codefix's version, `lexical.VERSION` and the
layout's own version.

A file's words are kept as one string, split on reading: as a list, checking
that every item of 10,000 lists was a string cost a pre-commit run 25 ms.
"""

from __future__ import annotations

from pathlib import Path

from codefix import __version__
from codefix.index_cache import CacheFile
from codefix.lexical import VERSION

#: Version of the layout of an entry: [[mtime, size], "words separated by spaces", [needles]].
_LAYOUT = 2


class WordsCache(CacheFile):
    """Module words, and the project rules' text needles the text holds, by relative path and stat signature."""

    def __init__(self, folder: Path):
        super().__init__(folder, "words", f"{__version__}-{VERSION}-{_LAYOUT}")

    def holds(self, relative: str) -> bool:
        """Whether the file has an entry at all: without one, its stat need not be taken (a cold run's 10,000 stats)."""
        return relative in self._entries

    def lookup(self, relative: str, signature: tuple[int, int]) -> tuple[set[str], frozenset[str]] | None:
        record = self._entries.get(relative)
        if not isinstance(record, list) or len(record) != 3 or record[0] != list(signature):
            return None
        words, needles = record[1], record[2]
        if not isinstance(words, str) or not isinstance(needles, list) or not all(isinstance(item, str) for item in needles):
            return None
        return set(words.split()), frozenset(needles)

    def store(self, relative: str, signature: tuple[int, int], words: set[str], needles: frozenset[str]) -> None:
        self._entries[relative] = [list(signature), " ".join(sorted(words)), sorted(needles)]
        self._dirty = True
