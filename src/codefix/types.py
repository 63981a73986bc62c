"""Values that cross module boundaries: what a run finds, changes and fails on.

They are frozen so that the engine, the renderers and the patch writer can pass
them around without wondering who else mutates them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class FixSafety(enum.Enum):
    """How much a rule trusts its rewrite; only SAFE fixes are applied by `apply`."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    NONE = "none"


@dataclass(frozen=True)
class Finding:
    """One reported problem, in the shape the JSON output promises."""

    rule: str
    #: Path relative to the project root, with forward slashes.
    path: str
    #: 1-based line and column of the start of the offending code.
    line: int
    col: int
    #: 1-based line and column just past its end.
    end_line: int
    end_col: int
    message: str
    #: True when `codefix apply` rewrites this site.
    fixable: bool

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.rule)


@dataclass(frozen=True)
class FileError:
    """A file that could not be read, decoded, parsed or rewritten; the run went on."""

    path: str
    message: str


@dataclass(frozen=True)
class FileChange:
    """A whole-file rewrite: the exact bytes before and after.

    Python sources and configuration files alike become one of these, so the
    diff, the patch, dry-run, apply and revert never need to know which rule
    produced them.
    """

    #: Path relative to the project root, with forward slashes.
    path: str
    before: bytes
    after: bytes
    #: Text encoding of the file, used only to show the diff to a person.
    encoding: str = "utf-8"
    #: Rules whose fixes produced this change.
    rules: tuple[str, ...] = ()
    #: The bytes that passed `sourcefile.content_error` where the change was made (in a worker,
    #: in parallel): the writer does not parse `after` again while it is still these bytes.
    #: Parsing every rewritten module a second time, one after the other, was most of applying a
    #: monorepo's fixes. Bytes, not a flag: a copy with other `after` bytes (`dataclasses.replace`
    #: of accepted hunks) is checked again.
    checked: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RunResult:
    """Everything one scan or apply produced, ready to be rendered."""

    root: Path
    #: Findings that remain (for `apply`: those left after the fixes).
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    changes: tuple[FileChange, ...] = ()
    #: Findings that the changes above fix.
    fixed: tuple[Finding, ...] = ()
    files_checked: int = 0
    extra: dict[str, object] = field(default_factory=dict, compare=False)


class ConfigurationError(Exception):
    """A bad value in the user's configuration; its text is one line for the user."""
