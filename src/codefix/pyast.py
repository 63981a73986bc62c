"""One `ast` parse per file, shared by every rule's prefilter and the engine, and walks of only what matters.

Several rules look at a candidate file with `ast` before LibCST sees it
(clickhouse-async and async-context each ask "can this file report?" and
"which lines can?"), and the engine parses it again to reduce it. On a
5,000-line file each parse costs ~50 ms and each full walk with parents
~150 ms. So the parse is done once, and a question about some names walks
only the nodes of the lines that spell one of them
(`lines_spelling`, `nodes_on`, `TreeFacts(tree, lines)`).

Only the last file is remembered (files are analysed one at a time), keyed
by the identity of its text, so nothing grows with the project.
"""

from __future__ import annotations

import ast
import bisect
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator

from codefix.lexical import lines_at, word_offsets

_last_text: str | None = None
_last_tree: ast.Module | None = None


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
    """What the prefilters ask of a tree, gathered in one walk: parents, calls and names by their last name.

    With `lines`, only the nodes `nodes_on` gives: every node on those
    lines, and what holds them.
    """

    def __init__(self, tree: ast.Module, lines: Iterable[int] | None = None):
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        #: Calls by the last name of their callee (`f` of `a.b.f()`).
        self.calls: dict[str, list[ast.Call]] = defaultdict(list)
        #: `Name` and `Attribute` nodes by their last name.
        self.names: dict[str, list[ast.AST]] = defaultdict(list)
        if lines is not None:
            for node, parent in nodes_on(tree, lines):
                if parent is not None:
                    self.parents[node] = parent
                self._note(node)
            return
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            self._note(node)

    def _note(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.names[node.id].append(node)
        elif isinstance(node, ast.Attribute):
            self.names[node.attr].append(node)
        elif isinstance(node, ast.Call):
            func = node.func
            word = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if word is not None:
                self.calls[word].append(node)


#: Fields holding statements (or clauses holding them): `nodes_on` enters only those overlapping its lines.
_BLOCK_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


def nodes_on(tree: ast.Module, lines: Iterable[int]) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """(node, its parent) for every node on one of `lines`, and every node holding one, parents first.

    Statements, clauses and their blocks are entered only where they overlap
    one of the lines; every other field (a header's expressions, a
    function's arguments and decorators, a clause's pattern) and every
    expression is walked whole. A node on one of the lines is inside one
    such statement, so every node there is given, with the chain of nodes
    around it: what `statements_on` and a full walk of each top-level
    statement gave, without the rest of a long function (most of the time
    spent in a prefilter of a real module).
    """
    wanted = sorted(set(lines))
    stack: list[tuple[ast.AST, ast.AST | None]] = [(statement, None) for statement in reversed(statements_on(tree, wanted))]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        children: list[tuple[ast.AST, ast.AST | None]] = []
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                if name in _BLOCK_FIELDS and isinstance(node, _HOLDS_BLOCKS):
                    children.extend((child, node) for child in value if _overlaps(child, wanted))
                else:
                    children.extend((child, node) for child in value if isinstance(child, ast.AST))
            elif isinstance(value, ast.AST):
                children.append((value, node))
        stack.extend(reversed(children))


_HOLDS_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)


def _overlaps(node: ast.AST, wanted: list[int]) -> bool:
    """Whether one of `wanted` (sorted) falls within the lines of a statement or clause."""
    if isinstance(node, ast.match_case):  # no position of its own: from its pattern to its body's end
        first, last = node.pattern.lineno, node.body[-1].end_lineno or node.body[-1].lineno
    else:
        first = _first_line(node)  # type: ignore[arg-type]
        last = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
    at = bisect.bisect_left(wanted, first)
    return at < len(wanted) and wanted[at] <= last


def lines_spelling(text: str, words: Iterable[str]) -> set[int]:
    """Lines (numbered as the tokenizer does) where one of `words` stands as a whole word.

    Every node that names one of them lies on such a line, so the statements
    holding these lines are all a question about those names needs to walk.
    Comments and strings add lines, never remove any.
    """
    return set(lines_at(text, word_offsets(text, words)))


def statements_on(tree: ast.Module, lines: Iterable[int]) -> list[ast.stmt]:
    """The top-level statements whose lines (decorators included) hold one of `lines`, in order."""
    body = tree.body
    firsts = [_first_line(statement) for statement in body]
    chosen: dict[int, ast.stmt] = {}
    for line in lines:
        at = bisect.bisect_right(firsts, line) - 1
        if at >= 0 and line <= (body[at].end_lineno or body[at].lineno):
            chosen[at] = body[at]
    return [chosen[at] for at in sorted(chosen)]


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or ()
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])
