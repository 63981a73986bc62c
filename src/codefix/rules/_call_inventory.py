"""Every call, name and attribute of a file, as clickhouse-async and async-context look them up.

A LibCST visitor, apart from the rule so that importing the rule does not
import LibCST (lazy_libcst.py): defining the class does (through the
stand-in, which patches LibCST first).
"""

from __future__ import annotations

from collections import defaultdict

from codefix.lazy_libcst import cst


class CallInventory(cst.CSTVisitor):
    """Every call, name and attribute of a file, collected in one pass."""

    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.names: dict[str, list[cst.Name]] = defaultdict(list)
        self.attributes: dict[str, list[cst.Attribute]] = defaultdict(list)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.names[node.value].append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attributes[node.attr.value].append(node)
