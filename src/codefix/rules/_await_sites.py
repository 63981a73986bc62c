"""The call sites await-websocket and await-sync judge, collected from a LibCST module.

A LibCST visitor, apart from the rules so that importing them does not
import LibCST (lazy_libcst.py): defining the class does (through the
stand-in, which patches LibCST first).
"""

from __future__ import annotations

from codefix.lazy_libcst import cst
from codefix.resolution import callee_parts
from codefix.rules._awaited_sync import AWAITABLE_REQUIRED, AWAITABLE_REQUIRED_METHODS


class AwaitSites(cst.CSTVisitor):
    """Every `await <call>`, and every call of an API that needs an awaitable, in one pass."""

    def __init__(self) -> None:
        self.awaits: list[cst.Await] = []
        self.calls: list[cst.Call] = []

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.awaits.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        parts = callee_parts(node.func)
        if parts and (parts[-1] in AWAITABLE_REQUIRED_METHODS or f"asyncio.{parts[-1]}" in AWAITABLE_REQUIRED):
            self.calls.append(node)
