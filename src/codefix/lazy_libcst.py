"""LibCST, imported on first use: `from codefix.lazy_libcst import cst`.

A pre-commit run on a file just edited imports the engine and every rule,
yet most such runs never parse a file with LibCST: the rules' prefilters
clear the file first. Importing LibCST (it builds some 250 node classes)
took 0.15 s of the 0.66 s such a run took on a 10,000-file project.

So the modules a run imports before it knows whether it will parse anything
(the engine, the rules, resolution.py, reduction.py) reach LibCST through
`cst`, a stand-in module. The first attribute asked of it imports LibCST,
applies codefix's patches to it (libcst_tables.py, libcst_walk.py, which the
engine used to install when it was imported) and copies LibCST's attributes
into the stand-in, so that every later `cst.Call` is a plain module lookup.
`cst.metadata` is LibCST's metadata package (LibCST imports it itself).

A class cannot subclass a LibCST class through the stand-in without loading
it, so the rules' visitors and transformers live in modules of their own,
imported where a file is analysed. Annotations are not evaluated (every
module has `from __future__ import annotations`); names a type checker
needs come under `TYPE_CHECKING`.

`load()` loads it on purpose: the engine does so before it forks workers to
analyse files, so that each worker does not import LibCST again.
"""

from __future__ import annotations

import threading
import types
from typing import TYPE_CHECKING, Any

_lock = threading.Lock()
_loaded = False


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        # Only called for a name not yet in the module's dictionary: before the load, or a name LibCST lacks.
        return getattr(load(), name)


if TYPE_CHECKING:  # type checkers and editors see LibCST itself
    import libcst as cst
else:
    cst = _StandIn("libcst", "LibCST, imported on first use (codefix.lazy_libcst).")


def load() -> types.ModuleType:
    """Import LibCST and patch it, once; the real module."""
    global _loaded
    import libcst

    if _loaded:
        return libcst
    with _lock:
        if not _loaded:
            from codefix import libcst_tables, libcst_walk

            libcst_tables.install()  # LibCST's visitor tables found once per class (see the module)
            libcst_walk.install()  # read-only visits that do not rebuild the tree (see the module)
            vars(cst).update({name: value for name, value in vars(libcst).items() if not name.startswith("__")})
            _loaded = True
    return libcst


def is_loaded() -> bool:
    """Whether LibCST was loaded through the stand-in (tests check a run that parses nothing never did)."""
    return _loaded
