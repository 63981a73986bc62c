"""Findings of earlier scans, reused while nothing they could depend on has changed.

A finding in one file depends on the whole project (a function made async in
another module, a marker registered in a config file), so results are kept
under one *project state*: the stat signature (size, mtime) of every Python
file of the project, of every file that configures pytest or codefix in
their folders, and the version, rules, settings and flags of the run. While
the state is unchanged, a warm `codefix scan` reads the findings of each file
it was asked about from here and builds no index and parses nothing: the cost
of a warm scan is a walk of the tree and a stat per file.

Any change to any of those files starts a new state; the index cache then
keeps the rebuild of what changed cheap. The memo file also holds the
shortcuts of shortcut.py, which answer a repeated command from here before
the rules are even imported. Only `scan` uses this (fixes are
always computed afresh), and `--no-cache` bypasses it. JSON, for the reason
index_cache.py gives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from codefix import __version__, cache_json
from codefix.sourcefile import write_atomically
from codefix.discovery import relative_name
from codefix.types import FileError, Finding, RunResult

#: Files outside `*.py` whose content can change a finding: the pytest
#: configuration and pins the marker rule reads, codefix's own configuration,
#: and the ignore files that decide which files exist for a run.
_WATCHED_NAMES = frozenset(
    {
        "pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg",
        "codefix.toml", ".codefix.toml", ".gitignore",
    }
)
_WATCHED_PATTERNS = ("requirements*.txt", "requirements*.in", "constraints*.txt")
#: What every name `_WATCHED_PATTERNS` matches starts with: most names of a tree are ruled out without fnmatch.
_WATCHED_PREFIXES = tuple(sorted({pattern.partition("*")[0] for pattern in _WATCHED_PATTERNS}))
_FILE_NAME = f"results-{__version__}.json"

#: The cache folder under the project root (`cache-dir` moves it); the index cache lives there too.
CACHE_DIR = ".codefix_cache"


def _signature(path: Path) -> tuple[int, int] | None:
    return _text_signature(str(path))


def _text_signature(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _watched_files(folders: Iterable[Path]) -> Iterable[Path]:
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name in _WATCHED_NAMES or (
                name.startswith(_WATCHED_PREFIXES) and any(fnmatch(name, pattern) for pattern in _WATCHED_PATTERNS)
            ):
                yield Path(entry.path)
            elif name == "requirements" and entry.is_dir():
                yield from (Path(folder, name, child) for child in sorted(os.listdir(entry.path)))


def project_state(
    root: Path,
    files: Sequence[Path | str],
    run_key: str,
    config_source: Path | None,
    signatures: dict[str, tuple[int, int] | None] | None = None,
) -> str:
    """A digest of everything a scan's findings can depend on (see the module docstring).

    Every file is signed from its path's text: through pathlib (its `stat`
    and `parent`), signing 10,000 files took 80 ms of each pre-commit run.
    `signatures`, when given, receives each file's (size, mtime_ns) by its
    path's text (None: it could not be signed), so that the run does not
    stat every file again to look up its caches (`IndexBuilder.signature`).
    """
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{sys.version_info[:2]}\0{run_key}\0".encode())
    parents: set[str] = set()
    update = digest.update
    signed = signatures if signatures is not None else {}
    for file in files:
        text = str(file)
        parents.add(os.path.dirname(text))
        signature = signed[text] = _text_signature(text)
        update(f"{text}\0{signature}\0".encode())
    folders = {root}
    for parent in map(Path, parents):  # and their ancestors up to the root, each once
        while parent not in folders and parent.is_relative_to(root):
            folders.add(parent)
            parent = parent.parent
    watched = sorted(set(_watched_files(sorted(folders))) | ({config_source} if config_source else set()))
    for path in watched:
        digest.update(f"{path}\0{_signature(path)}\0".encode())
    return digest.hexdigest()


@dataclasses.dataclass
class Outcome:
    """What one file (or one project rule over one set of targets) gave."""

    findings: list[Finding]
    errors: list[FileError]

    def encode(self) -> dict[str, Any]:
        return {
            "findings": [dataclasses.astuple(finding) for finding in self.findings],
            "errors": [dataclasses.astuple(error) for error in self.errors],
        }

    @classmethod
    def decode(cls, value: dict[str, Any]) -> Outcome:
        return cls([Finding(*item) for item in value["findings"]], [FileError(*item) for item in value["errors"]])


class ResultsMemo:
    """Outcomes by key (a file's relative path, or a project rule's key) for one project state.

    The file keeps the last few states, so that alternating runs (all rules,
    then `--rule pytest-markers`, then all rules) do not evict each other.
    """

    KEPT_STATES = 4
    #: Commands remembered by shortcut.py (pre-commit's file lists differ from commit to commit).
    KEPT_SHORTCUTS = 16

    def __init__(self, folder: Path, state: str):
        self.path = folder / _FILE_NAME
        self._states: dict[str, dict[str, Any]] = {}
        self._dirty = False
        self._shortcuts: dict[str, Any] = {}
        try:
            document = json.loads(self.path.read_bytes())
            states = document["states"]
            if isinstance(states, dict) and all(isinstance(entries, dict) for entries in states.values()):
                self._states = states
            shortcuts = document.get("shortcuts", {})
            if isinstance(shortcuts, dict):
                self._shortcuts = shortcuts
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no memo, or an unreadable one: computed afresh and rewritten
        self.state = ""
        self._entries: dict[str, Any] = {}
        self.move_to(state)

    def move_to(self, state: str) -> None:
        """Use `state` from now on (a remembered scan learns its state after reading the shortcuts)."""
        if self._entries:
            self._states[self.state] = self._entries
        self.state = state
        #: Whether the memo holds this state at all (a state with no file and no project rule is empty, yet known).
        self.known = state in self._states
        self._entries = self._states.pop(state, {})

    def shortcut(self, key: str) -> dict[str, Any] | None:
        """What a full run of the command `key` (shortcut.py) learnt, if one was recorded."""
        entry = self._shortcuts.get(key)
        return entry if isinstance(entry, dict) else None

    def record_shortcut(self, key: str, entry: dict[str, Any]) -> None:
        if self._shortcuts.get(key) != entry:
            self._shortcuts.pop(key, None)
            self._shortcuts[key] = entry  # last: the most recent are kept
            self._dirty = True

    def get(self, key: str) -> Outcome | None:
        value = self._entries.get(key)
        if value is None:
            return None
        try:
            return Outcome.decode(value)
        except (TypeError, KeyError, ValueError):
            return None

    def put(self, key: str, outcome: Outcome) -> None:
        self._entries[key] = outcome.encode()
        self._dirty = True

    def save(self) -> None:
        """Write if something was added; a cache that cannot be written is no error."""
        if not self._dirty:
            return
        # The current state last: dicts keep insertion order, the oldest go first.
        from codefix.index_cache import ensure_cache_folder  # the index stack: not for a remembered scan

        states = {**self._states, self.state: self._entries}
        kept = dict(list(states.items())[-self.KEPT_STATES :])
        shortcuts = dict(list(self._shortcuts.items())[-self.KEPT_SHORTCUTS :])
        try:
            ensure_cache_folder(self.path.parent)
            document = {"states": kept, "shortcuts": shortcuts}
            write_atomically(self.path, cache_json.dumps(document))
        except OSError:
            pass


def project_rule_key(rule_id: str, checked_names: Iterable[str]) -> str:
    """The memo key of a project rule's outcome over the files it checked (their relative names)."""
    names = "\0".join(sorted(checked_names))
    return f"{rule_id}:{hashlib.sha256(names.encode()).hexdigest()}"


def recall(
    memo: ResultsMemo,
    root: Path,
    targets: Sequence[Path],
    target_names: dict[Path, str],
    unlistable: Sequence[tuple[Path, str]],
    per_file: bool,
    project_keys: Sequence[str],
) -> RunResult | None:
    """A scan's result entirely from the memo, or None when a file's or project rule's outcome is missing.

    `per_file`: whether any rule works file by file (each target then has an
    outcome of its own); `project_keys`: the keys of the project rules' outcomes.
    """
    if not memo.known:
        return None
    outcomes: list[Outcome] = []
    if per_file:
        for target in targets:
            outcome = memo.get(target_names[target])
            if outcome is None:
                return None
            outcomes.append(outcome)
    for key in project_keys:
        outcome = memo.get(key)
        if outcome is None:
            return None
        outcomes.append(outcome)
    findings = [finding for outcome in outcomes for finding in outcome.findings]
    errors = [FileError(relative_name(folder, root), reason) for folder, reason in unlistable]
    errors.extend(error for outcome in outcomes for error in outcome.errors)
    result = RunResult(
        root=root,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        errors=tuple(errors),
        files_checked=len(targets),
    )
    result.extra["remembered"] = True
    return result
