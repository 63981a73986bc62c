"""Reporting only what is new: against a baseline file of known findings, or against a git revision.

A baseline records the findings of one run (`codefix scan --baseline FILE
--write-baseline`, like detekt's `--create-baseline` and SwiftLint's
`--write-baseline`); a later `--baseline FILE` hides the findings it holds.
Line numbers move whenever code is inserted above, so a finding is matched
by its fingerprint instead: rule id, path, and the normalised text of the
first and last line of its span (each stripped, runs of spaces and tabs made
one space; lines in between are left out, so an edit inside a long block
keeps it known). Findings with the same fingerprint in one file are counted
in source order, and the baseline stores the count: with three known
`x = await f()` lines, a fourth is new. The message is not part of the
fingerprint, because it names other files' line numbers, which drift.
A renamed file's findings are new.

The file is JSON with one entry per line, sorted, so a review shows the
entries that were added or dropped; it is replaced atomically.

`only_new` is the filter both `--since` and `--baseline` use on a
`RunResult`. Findings are judged on the file as it is on disk (for `apply`,
remaining findings are first moved back from the fixed text). A fix is kept
for a whole file when any finding it fixes is new, because one fix can span
several hunks (an added import and the call that needs it); old findings in
that file are then fixed too. A configuration file's change (pytest-markers)
is kept when any finding of its rules is new.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codefix.changed_lines import ChangedLines, line_mapper
from codefix.interactive import settle
from codefix.sourcefile import SourceError, detect_encoding, write_atomically
from codefix.types import Finding, RunResult

BASELINE_VERSION = 1
_SPACES = re.compile(r"[ \t\f\v]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as LibCST numbers lines

Fingerprint = tuple[str, str, str]  # (path, rule, text)


class BaselineError(Exception):
    """A baseline that cannot be read, parsed or written; one line for the user."""


def source_lines(data: bytes, path: str) -> list[str]:
    """The file's lines as codefix numbers them, decoded as Python would (other files as UTF-8)."""
    encoding = "utf-8"
    if path.endswith(".py"):
        try:
            encoding = detect_encoding(data)
        except SourceError:
            pass
    return _LINE_BREAK.split(data.decode(encoding, "replace"))


def _normalised(line: str) -> str:
    return _SPACES.sub(" ", line.strip())


def fingerprint_text(finding: Finding, lines: Sequence[str]) -> str:
    """The normalised first and last line of the finding's span."""

    def at(number: int) -> str:
        return _normalised(lines[number - 1]) if 0 < number <= len(lines) else ""

    if finding.end_line <= finding.line:
        return at(finding.line)
    return at(finding.line) + "\n" + at(finding.end_line)


def fingerprints(findings: Sequence[Finding], source: Callable[[str], bytes]) -> list[Fingerprint]:
    """One fingerprint per finding, in the order given; `source(path)` gives the file's bytes."""
    cache: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        if finding.path not in cache:
            try:
                cache[finding.path] = source_lines(source(finding.path), finding.path)
            except OSError:
                cache[finding.path] = []
        result.append((finding.path, finding.rule, fingerprint_text(finding, cache[finding.path])))
    return result


@dataclass(frozen=True)
class Baseline:
    """Known findings: how many findings carry each fingerprint."""

    counts: Counter[Fingerprint]

    @classmethod
    def of(cls, findings: Sequence[Finding], source: Callable[[str], bytes]) -> Baseline:
        return cls(Counter(fingerprints(findings, source)))

    def new_flags(self, findings: Sequence[Finding], source: Callable[[str], bytes]) -> list[bool]:
        """For each finding, True when it is not among the known ones (counted in source order per file)."""
        prints = fingerprints(findings, source)
        order = sorted(range(len(findings)), key=lambda index: findings[index].sort_key())
        seen: Counter[Fingerprint] = Counter()
        flags = [True] * len(findings)
        for index in order:
            seen[prints[index]] += 1
            flags[index] = seen[prints[index]] > self.counts[prints[index]]
        return flags

    def dumps(self) -> str:
        entries = [
            json.dumps({"path": path, "rule": rule, "text": text, "count": count}, ensure_ascii=False, sort_keys=True)
            for (path, rule, text), count in sorted(self.counts.items())
        ]
        body = ",\n".join(f"    {entry}" for entry in entries)
        return f'{{\n  "version": {BASELINE_VERSION},\n  "findings": [\n{body}{chr(10) if entries else ""}  ]\n}}\n'


def save_baseline(path: Path, baseline: Baseline) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, baseline.dumps().encode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None


def load_baseline(path: Path) -> Baseline:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a codefix baseline: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(f'{path}: not a codefix baseline: expected an object with "version": {BASELINE_VERSION}')
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f'{path}: not a codefix baseline: "findings" must be a list')
    counts: Counter[Fingerprint] = Counter()
    for number, entry in enumerate(entries, start=1):
        if not (
            isinstance(entry, dict)
            and all(isinstance(entry.get(key), str) for key in ("path", "rule", "text"))
            and type(entry.get("count")) is int
            and entry["count"] > 0
        ):
            raise BaselineError(
                f"{path}: not a codefix baseline: finding {number} needs string path, rule, text and a positive count"
            )
        counts[(entry["path"], entry["rule"], entry["text"])] += entry["count"]
    return Baseline(counts)


def on_disk_source(root: Path, result: RunResult) -> Callable[[str], bytes]:
    """The bytes of each file as it is now (a changed file's old bytes, which the run read)."""
    before = {change.path: change.before for change in result.changes}
    return lambda path: before[path] if path in before else (root / path).read_bytes()


def as_on_disk(result: RunResult) -> list[Finding]:
    """`result.findings` placed on the lines of the files on disk (apply reports them on the fixed text)."""
    changes = {change.path: change for change in result.changes}
    mappers: dict[str, Callable[[int], int]] = {}
    placed = []
    for finding in result.findings:
        change = changes.get(finding.path)
        if change is None:
            placed.append(finding)
            continue
        if change.path not in mappers:
            mappers[change.path] = line_mapper(change.after, change.before)
        mapped = mappers[change.path]
        line = mapped(finding.line)
        placed.append(replace(finding, line=line, end_line=max(mapped(finding.end_line), line)))
    return placed


@dataclass(frozen=True)
class NewOnly:
    """`only_new`'s answer: the narrowed result, and how many known findings it leaves out."""

    result: RunResult
    hidden: int


def only_new(result: RunResult, changed: ChangedLines | None = None, baseline: Baseline | None = None) -> NewOnly:
    """`result` with only findings on changed lines (`changed`) and not in `baseline`, and only their fixes."""
    source = on_disk_source(result.root, result)
    remaining, fixed = as_on_disk(result), list(result.fixed)
    judged = remaining + fixed
    flags = [True] * len(judged)
    if changed is not None:
        flags = [flag and changed.touches(f.path, f.line, f.end_line) for flag, f in zip(flags, judged)]
    if baseline is not None:
        flags = [flag and new for flag, new in zip(flags, baseline.new_flags(judged, source))]
    new_remaining = [f for f, flag in zip(result.findings, flags) if flag]
    new_fixed = {f for f, flag in zip(fixed, flags[len(remaining):]) if flag}
    keep = {
        change.path
        for change in result.changes
        if any(f.path == change.path or (not change.path.endswith(".py") and f.rule in change.rules) for f in new_fixed)
    }
    finals = {change.path: change.after if change.path in keep else change.before for change in result.changes}
    narrowed = settle(replace(result, findings=tuple(new_remaining)), finals, show_unapplied=lambda f: f in new_fixed)
    hidden = len(result.findings) - len(new_remaining) + sum(
        1 for f in fixed if f not in new_fixed and f not in narrowed.fixed
    )
    return NewOnly(narrowed, hidden)
