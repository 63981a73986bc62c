"""LibCST's batched visitors, with each class's table of visitor methods found once, not per file.

`MetadataWrapper.resolve` runs the scope, parent and expression-context
providers as batched visitors, and LibCST asks each new visitor instance for
its `visit_*`/`leave_*` methods with `inspect.getmembers`, which lists and
tests every one of the hundreds of attributes of a visitor class. The answer
depends only on the class (which methods exist, which are LibCST's no-op
stubs), yet it was computed three times per analysed file: 10-20% of the
analysis once the screening made the analysed copies small. Here the names
are found once per class, and the instance's own bound methods are handed
out: the mapping LibCST builds. An instance carrying its own `visit_*` or
`leave_*` attribute gets LibCST's own answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from libcst._batched_visitor import BatchableCSTVisitor

_original_get_visitors = BatchableCSTVisitor.get_visitors
_names_by_class: dict[type, tuple[str, ...]] = {}


def _has_own_visitor_attributes(visitor: Any) -> bool:
    return any(name.startswith(("visit_", "leave_")) for name in getattr(visitor, "__dict__", {}))


def _get_visitors(self: BatchableCSTVisitor) -> Mapping[str, Any]:
    if _has_own_visitor_attributes(self):
        return _original_get_visitors(self)
    names = _names_by_class.get(type(self))
    if names is None:
        names = tuple(_original_get_visitors(self))
        _names_by_class[type(self)] = names
    return {name: getattr(self, name) for name in names}


def install() -> None:
    """Make `BatchableCSTVisitor.get_visitors` remember each class's method names (idempotent)."""
    BatchableCSTVisitor.get_visitors = _get_visitors  # type: ignore[method-assign]
