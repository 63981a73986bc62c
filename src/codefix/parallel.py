"""Per-file work spread over forked worker processes, results in input order.

A cold scan has two halves: building the index (already spread over
processes by index.py) and analysing the files that hold candidate sites
(LibCST parse, scope metadata, the rules), which ran on one core and took
about as long. The workers here are forked *after* the project is loaded and
the rules prepared, so each inherits the index, the resolver and the rules
as they are in memory: only the items go out and picklable outcomes come
back, nothing large is pickled.

Where fork is not available (Windows), or for a handful of items, the work
stays in this process; a worker that dies (killed, out of memory) costs
speed, not the run: the items it left are done here. Either way the caller
gets the same outcomes in the same order.
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Below this many items, forking workers costs more than it saves.
PARALLEL_THRESHOLD = 64
#: Items per message to a worker, at least: most files are rejected by a text check in microseconds.
CHUNK = 8
#: Messages per worker, at most: with 10,000 files of a tenth of a millisecond each, a message
#: per 8 files cost the parent as much as the workers' work.
CHUNKS_PER_WORKER = 32

#: What forked workers call: set just before the pool forks, cleared after.
_inherited: tuple[Callable[..., Any], tuple[Any, ...]] | None = None


def _call_inherited(item: Any) -> Any:
    assert _inherited is not None, "only forked workers run this"
    function, extra = _inherited
    return function(item, *extra)


def ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C (sent to the whole process group) is the parent's to handle.

    A worker interrupted while it holds the pool's queue can leave the pool
    unable to shut down, and the parent waiting on it forever; ignoring
    SIGINT, each worker finishes its item and is stopped by the parent's
    shutdown, which drops the items not yet started.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def can_fork() -> bool:
    import multiprocessing  # here, like the pool's imports: a run that never forks (pre-commit's) never pays for them

    return "fork" in multiprocessing.get_all_start_methods()


def forks(count: int, workers: int) -> bool:
    """Whether `ordered_map` runs `count` items in forked workers (what they share is best loaded before)."""
    return workers > 1 and count >= PARALLEL_THRESHOLD and can_fork()


def ordered_map(
    function: Callable[..., Result], items: Sequence[Item], extra: tuple[Any, ...], workers: int
) -> Iterator[Result]:
    """`function(item, *extra)` for each item, in order; in forked workers when there are enough items.

    `function` must not raise (the engine's `analyse_file` turns every
    failure into an outcome); its results must pickle.
    """
    global _inherited
    if not forks(len(items), workers):
        for item in items:
            yield function(item, *extra)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    _inherited = (function, extra)
    # What the workers inherit (the index, the rules) lives as long as they do:
    # frozen, the collector never walks it again in any of them.
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=ignore_interrupts
    )
    try:
        chunk = max(CHUNK, len(items) // (workers * CHUNKS_PER_WORKER))
        for result in pool.map(_call_inherited, items, chunksize=chunk):
            done += 1
            yield result
    except BrokenProcessPool:
        for item in items[done:]:
            yield function(item, *extra)
    finally:
        # Not-yet-started work is dropped when the caller stops early (an interrupt, say).
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
        _inherited = None
