"""One `ast` parse, and one walk, per file, shared by every rule's prefilter and the engine.

Several rules look at a candidate file with `ast` before LibCST sees it
(clickhouse-async and async-context each ask "can this file report?" and
"which lines can?"), and the engine parses it again to reduce it. On a
5,000-line file each parse costs ~50 ms and each full walk with parents
~150 ms: done once they stop being the largest cost of a cold scan.

Only the last file is remembered (files are analysed one at a time), keyed
by the identity of its text, so nothing grows with the project.
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_last_text: str | None = None
_last_tree: ast.Module | None = None
_last_facts: tuple[ast.Module, TreeFacts] | None = None


def parse(text: str) -> ast.Module:
    """`ast.parse(text)`, remembered for the same text object; raises as `ast.parse` does."""
    global _last_text, _last_tree
    if _last_text is text and _last_tree is not None:
        return _last_tree
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like
        tree = ast.parse(text)
    _last_text, _last_tree = text, tree
    return tree


class TreeFacts:
    """What the prefilters ask of a tree, gathered in one walk: parents, calls and names by their last name."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        #: Calls by the last name of their callee (`f` of `a.b.f()`).
        self.calls: dict[str, list[ast.Call]] = defaultdict(list)
        #: `Name` and `Attribute` nodes by their last name.
        self.names: dict[str, list[ast.AST]] = defaultdict(list)
        self._derived: dict[Any, Any] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.Name):
                self.names[node.id].append(node)
            elif isinstance(node, ast.Attribute):
                self.names[node.attr].append(node)
            elif isinstance(node, ast.Call):
                func = node.func
                word = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if word is not None:
                    self.calls[word].append(node)

    def derived(self, key: Any, compute: Callable[[ast.Module], Any]) -> Any:
        """`compute(tree)`, once per key (a rule's whole-file fact, such as its external names)."""
        if key not in self._derived:
            self._derived[key] = compute(self.tree)
        return self._derived[key]


def facts(tree: ast.Module) -> TreeFacts:
    global _last_facts
    if _last_facts is not None and _last_facts[0] is tree:
        return _last_facts[1]
    gathered = TreeFacts(tree)
    _last_facts = (tree, gathered)
    return gathered
