"""The --fix-typos rewrite of pytest-markers: a marker's name replaced where it is used, every other byte kept.

Apart from _marker_uses.py, which reads marker uses with `ast`: the
transformer subclasses LibCST's, and defining it imports LibCST
(lazy_libcst.py), which only a run that renames needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codefix.lazy_libcst import cst
from codefix.rules._marker_uses import MarkerScanError, MarkerUse
from codefix.sourcefile import SourceFile, read_source


class _Renamer(cst.CSTTransformer):
    """Replaces the name tokens found at given positions, keeping every other byte."""

    METADATA_DEPENDENCIES = (cst.metadata.PositionProvider,)

    def __init__(self, renames: dict[tuple[int, int], tuple[str, str]]):
        super().__init__()
        #: (line, column) -> (old name, new name)
        self.renames = renames
        self.done = 0

    def _wanted(self, node: cst.CSTNode) -> tuple[str, str] | None:
        start = self.get_metadata(cst.metadata.PositionProvider, node).start
        return self.renames.get((start.line, start.column + 1))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        wanted = self._wanted(original_node)
        if wanted is None or original_node.value != wanted[0]:
            return updated_node
        self.done += 1
        return updated_node.with_changes(value=wanted[1])

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        wanted = self._wanted(original_node)
        if wanted is None or original_node.evaluated_value != wanted[0]:
            return updated_node
        self.done += 1
        prefix, quote = updated_node.prefix, updated_node.quote
        return updated_node.with_changes(value=f"{prefix}{quote}{wanted[1]}{quote}")


def renamed_source(path: Path, renames: Sequence[tuple[MarkerUse, str]]) -> tuple[SourceFile, bytes, int]:
    """The file with each use's name replaced by its new name: its source, new bytes, and how many were renamed.

    Uses are matched by the position and text of their name token, so a use
    that moved since the scan is left alone rather than misapplied.
    """
    source = read_source(path)
    try:
        module = cst.parse_module(source.text)
    except Exception as exc:  # noqa: BLE001 - any parser failure is this file's error
        raise MarkerScanError(f"cannot parse: {type(exc).__name__}") from None
    wanted = {use.rename_at: (use.name, new) for use, new in renames if use.rename_at is not None}
    renamer = _Renamer(wanted)
    rewritten = cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True).visit(renamer)
    return source, source.encode(rewritten.code), renamer.done
