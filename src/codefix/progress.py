"""Progress of a long run, on stderr, for a person at a terminal.

A run over a monorepo indexes thousands of files before it reports anything;
without a sign of life users assume a hang. The bar appears only when the
run has lasted `DELAY` seconds, only when stderr is a terminal, and never
with `--quiet`: a pipe, a CI log or a pre-commit hook sees nothing. It is
transient, so the report that follows is all that stays on screen.

The engine knows nothing of rich: it calls `phase` and `advance` on whatever
`Progress` it is given; `NoProgress` is the default.
"""

from __future__ import annotations

import os
import time
from typing import Protocol

#: Seconds before the bar shows. `CODEFIX_PROGRESS_DELAY` overrides it, for tests.
DELAY = 1.0


class Progress(Protocol):
    def phase(self, description: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalProgress:
    """A rich progress bar on stderr, started only once the run has lasted `DELAY` seconds."""

    def __init__(self, console) -> None:
        self.console = console
        self.delay = float(os.environ.get("CODEFIX_PROGRESS_DELAY", DELAY))
        self.started = time.monotonic()
        self._bar = None
        self._task = None
        self._description = ""
        self._total = 0
        self._done = 0

    def phase(self, description: str, total: int) -> None:
        self._description, self._total, self._done = description, total, 0
        if self._bar is not None:
            # A phase with no count (walking, preparing, a project rule) pulses.
            self._task = self._bar.add_task(description, total=total or None)
            self._hide_finished()
        self._maybe_show()

    def advance(self, count: int = 1) -> None:
        self._done += count
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, count)
        else:
            self._maybe_show()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _maybe_show(self) -> None:
        if self._bar is not None or time.monotonic() - self.started < self.delay or not self._total:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._description, total=self._total, completed=self._done)

    def _hide_finished(self) -> None:
        assert self._bar is not None
        for task in self._bar.tasks:
            if task.id != self._task:
                task.visible = False


class PhaseClock:
    """A `Progress` that also times each phase, for `--verbose`; the phases go on to `inner`.

    A cold scan of a monorepo spends its time in a few steps whose weights
    depend on the tree (how many files nobody imports, how many hold a
    candidate site); telling them lets a user see what to exclude, and an
    engineer what to speed up, without a profiler. A phase lasts until the
    next begins or the run closes; phases of one name are added up.
    """

    def __init__(self, inner: Progress, clock=time.perf_counter) -> None:
        self.inner = inner
        self._clock = clock
        #: Description -> [files, seconds], in the order first seen.
        self._totals: dict[str, list[float]] = {}
        self._current: str | None = None
        self._since = 0.0

    def phase(self, description: str, total: int) -> None:
        self._stop()
        self._current, self._since = description, self._clock()
        self._totals.setdefault(description, [0, 0.0])[0] += total
        self.inner.phase(description, total)

    def advance(self, count: int = 1) -> None:
        self.inner.advance(count)

    def close(self) -> None:
        self._stop()
        self.inner.close()

    def _stop(self) -> None:
        if self._current is not None:
            self._totals[self._current][1] += self._clock() - self._since
            self._current = None

    @property
    def phases(self) -> list[tuple[str, int, float]]:
        """(description, files, seconds) of each phase, in the order they first began."""
        return [(name, int(files), seconds) for name, (files, seconds) in self._totals.items()]


def progress_for(console, quiet: bool) -> Progress:
    """A bar for a person at a terminal; nothing for pipes, logs, hooks or `--quiet`."""
    if quiet or not console.is_terminal:
        return NoProgress()
    return TerminalProgress(console)
