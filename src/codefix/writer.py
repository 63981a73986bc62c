"""Putting a run's file changes on disk, so that no file and no patch is ever half true.

One job: take the `FileChange`s that `apply` computed, write each one that is
still safe to write, and leave a patch that describes exactly what was
written, whatever stops the run and whenever.

How each way of going wrong is handled:

- **A kill at any instant** (SIGKILL, a crash, a lost terminal). Each file is
  replaced by one `rename` of a complete, fsynced temporary copy, so it holds
  its old bytes or its new ones. The patch is a write-ahead journal, written
  as the run goes: before a file is replaced, its diff is appended as a
  *pending* record and fsynced; once the rename is done (and the folder
  fsynced), the record's commit line follows. However the run dies, the
  journal holds a committed record for every file that was written, and at
  most one pending record whose rename may or may not have happened, the
  file in hand (other pending records are files left alone, still holding
  their old bytes); `codefix revert` reverts a pending record only if its
  file holds exactly the record's new bytes. A record cut short by the kill belongs to a file
  that was never touched. The journal format is described in `codefix.patch`.
  When the run ends, normally or by Ctrl-C, the journal is rewritten
  (atomically) as the plain patch of the files written, which `git apply -R`
  also undoes. Appending instead of rewriting the whole patch each time keeps
  the cost per file constant: three fsyncs (temporary file, journal, folder).
- **Ctrl-C (SIGINT) while writing.** Deferred until the file in hand and its
  journal record are complete; then writing stops, the patch is finalised,
  and the outcome says `interrupted` for the caller to report.
- **A file edited since it was analysed.** Its bytes are compared with the
  analysed ones after the new content is staged, immediately before the
  rename; a file that differs is left alone and reported.
- **Writing where the user did not ask.** A path that is absolute, climbs out
  with `..`, or resolves (through a symlink, of the file or of a folder)
  outside the project root is refused. A symlink inside the project is
  written through, so it stays a link; two paths that resolve to the same
  file are written once.
- **Files that must not be rewritten.** A read-only file or folder (no write
  bit at all, or not writable by this user) and a file with several hard
  links (a rename would split them) are left alone and reported. The mode
  bits are checked, not only `os.access`, so a run as root respects them too.
- **New content that does not parse** (Python, TOML) is refused, with
  CPython's parser on the exact bytes that would be written
  (`sourcefile.content_error`). A change whose bytes the engine already
  checked with that same function (`FileChange.checked`) is not parsed a
  second time.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from codefix.patch import file_diff, file_line, journal_header, make_patch, pending_record, prepare_patch_folder, safe_relative
from codefix.sourcefile import content_error, fsync_folder, staged_replacement, write_atomically
from codefix.types import FileChange, FileError


class PatchSaveError(Exception):
    """The patch could not be created, so nothing was written; one line for the user."""


class _JournalFailure(Exception):
    """Appending to the journal failed (a full disk); no further file may be written."""


@dataclass(frozen=True)
class WriteOutcome:
    """What `write_changes` did."""

    #: The changes now on disk, in the order written.
    written: tuple[FileChange, ...] = ()
    #: Changes left unwritten, each with its reason.
    errors: tuple[FileError, ...] = ()
    #: The patch of `written`; None when nothing was written (no patch is left).
    patch_path: Path | None = None
    #: True when SIGINT stopped the run before every change was tried.
    interrupted: bool = False
    #: The changes not tried because of the interruption (files left as they were).
    not_tried: tuple[FileChange, ...] = ()


class _Journal:
    """The patch file while the run writes, appended to and fsynced record by record.

    It comes into existence (atomically, with its header and first record) just
    before the first file is replaced, so a patch file exists only when it has
    at least one complete record.
    """

    def __init__(self, path: Path, title: str):
        self.path = path
        self.title = title
        self._handle: BinaryIO | None = None

    def _create(self, first_record: bytes) -> None:
        try:
            prepare_patch_folder(self.path)
            write_atomically(self.path, journal_header(self.title) + first_record)
            self._handle = open(self.path, "ab")  # noqa: SIM115 - closed in finish()
        except OSError as exc:
            raise PatchSaveError(f"{self.path}: cannot save the patch: {exc.strerror or exc}") from None

    def append(self, data: bytes, durable: bool) -> None:
        if self._handle is None:
            return self._create(data)
        handle = self._handle
        try:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        except OSError as exc:
            # A record may now be cut short; another after it would be misread.
            raise _JournalFailure(exc.strerror or str(exc)) from None

    def finish(self, written: Sequence[FileChange], diffs: Mapping[str, bytes]) -> Path | None:
        """Replace the journal by the plain patch of `written` (`diffs`: the records' diffs); remove it if none was."""
        if self._handle is None:
            return None
        self._handle.close()
        if not written:
            self.path.unlink(missing_ok=True)
            return None
        try:
            write_atomically(self.path, make_patch(written, title=self.title, diffs=diffs))
        except OSError:
            pass  # the journal stays: `codefix revert` reads it just as well
        return self.path


@contextmanager
def _deferred_interrupts() -> Iterator[list[int]]:
    """SIGINT only records itself in the yielded list until the block ends.

    Signal handlers can be set from the main thread only; elsewhere (a test
    runner's worker thread) SIGINT keeps its usual effect.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda number, _frame: received.append(number))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _write_protection(target: Path, status: os.stat_result) -> str | None:
    """Why `target` must be left alone although we could technically replace it; None when writable."""
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK):
        return "read-only file"
    if status.st_nlink > 1:
        return f"has {status.st_nlink} hard links, which a rewrite would split"
    folder = target.parent
    try:
        folder_mode = folder.stat().st_mode
    except OSError as exc:
        return f"cannot inspect its folder: {exc.strerror or exc}"
    if not folder_mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        return "its folder is read-only"
    return None


class _ChangeWriter:
    def __init__(self, root: Path, journal: _Journal):
        self.root = root
        self.resolved_root = root.resolve()
        self.journal = journal
        self.written: list[FileChange] = []
        self.errors: list[FileError] = []
        self._targets: dict[Path, str] = {}
        #: Each journal record's diff, by path: the final patch reuses them.
        self.diffs: dict[str, bytes] = {}

    def refuse(self, change: FileChange, reason: str) -> None:
        self.errors.append(FileError(change.path, f"{reason}; not written"))

    def target(self, change: FileChange) -> Path | str:
        """The real file to replace, or why there is none inside the project."""
        relative = safe_relative(change.path)
        if relative is None:
            return "outside the project root"
        if "\n" in change.path or "\r" in change.path:
            return "a line break in the file name, which a patch cannot name"
        try:
            real = (self.root / relative).resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
            return "a path that cannot be resolved (symlink loop?)"
        if not real.is_relative_to(self.resolved_root):
            return "leads outside the project root through a symlink"
        if real in self._targets:
            return f"the same file as {self._targets[real]} (through a link), which is written at most once"
        return real

    def write(self, change: FileChange) -> None:
        real = self.target(change)
        if isinstance(real, str):
            return self.refuse(change, real)
        self._targets[real] = change.path
        problem = None if change.checked == change.after else content_error(change.path, change.after)
        if problem is not None:
            return self.refuse(change, f"the new content would not parse ({problem})")
        try:
            status = real.stat()
        except OSError as exc:
            return self.refuse(change, f"cannot read: {exc.strerror or exc}")
        protection = _write_protection(real, status)
        if protection is not None:
            return self.refuse(change, protection)
        try:
            with staged_replacement(real, change.after) as replace:
                diff = self.diffs[change.path] = file_diff(change)
                self.journal.append(pending_record(change, diff), durable=True)
                if real.read_bytes() != change.before:
                    return self.refuse(change, "changed while codefix was running")
                replace()
        except OSError as exc:
            return self.refuse(change, f"cannot write: {exc.strerror or exc}")
        fsync_folder(real.parent)
        self.written.append(change)
        # Not fsynced: a commit line lost to a power cut leaves a pending
        # record whose file holds its new bytes, which revert handles alike.
        self.journal.append(file_line(change), durable=False)


def write_changes(root: Path, changes: Sequence[FileChange], patch_path: Path, title: str = "") -> WriteOutcome:
    """Write `changes` under `root`, one file at a time, journaling them into `patch_path`.

    Raises PatchSaveError, having written nothing, when the patch cannot be
    created. Every other problem is a `FileError` of the change concerned.
    """
    journal = _Journal(patch_path, title)
    writer = _ChangeWriter(root, journal)
    not_tried: Sequence[FileChange] = ()
    with _deferred_interrupts() as interrupts:
        try:
            for number, change in enumerate(changes):
                if interrupts:
                    not_tried = changes[number:]
                    break
                writer.write(change)
        except _JournalFailure as exc:
            done = {c.path for c in writer.written} | {e.path for e in writer.errors}
            reason = f"not written: the patch could not be saved ({exc})"
            writer.errors.extend(FileError(c.path, reason) for c in changes if c.path not in done)
        finally:
            patch = journal.finish(writer.written, writer.diffs)
    return WriteOutcome(tuple(writer.written), tuple(writer.errors), patch, bool(interrupts), tuple(not_tried))
