"""Making the fixes of a rule's reports in a LibCST module.

Apart from engine.py because the transformer subclasses LibCST's: defining it
imports LibCST (through the stand-in, which patches it first), which a run
that fixes nothing never needs (lazy_libcst.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codefix.lazy_libcst import cst
from codefix.rules.base import Report


class _ReportFixer(cst.CSTTransformer):
    def __init__(self, fixes: dict[int, Callable[[cst.CSTNode], cst.CSTNode]]):
        self.fixes = fixes

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        fix = self.fixes.get(id(original_node))
        updated = super().on_leave(original_node, updated_node)
        if fix is None or not isinstance(updated, cst.CSTNode):
            return updated
        return fix(updated)


def apply_reports(module: cst.Module, reports: Sequence[Report]) -> cst.Module:
    fixes = {id(report.target): report.fix for report in reports if report.fix is not None}
    result = module.visit(_ReportFixer(fixes))
    assert isinstance(result, cst.Module)
    for report in reports:
        if report.module_fix is not None:
            result = report.module_fix(result)
    return result
