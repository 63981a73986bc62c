"""A smaller copy of a source file for LibCST: only the code near candidate sites.

LibCST's metadata (scopes, positions, parents) costs tens of microseconds a
line, and the files that hold a candidate site are often the largest of a
project. Rules look at a site, the function around it and the module's
bindings, never at the body of an unrelated function. So before LibCST sees
a file, the body of every function (and every class) that holds no candidate
line becomes `pass` followed by blank lines.

Every kept line keeps its number and its exact text, so findings found on the
reduced copy carry the same positions as on the file itself. Reduction is only
for finding; a fix is always computed on the whole file (see engine.py).

What must stay for the answers to be the same:
- module-level statements (imports, assignments, `try` fallbacks): the module
  scope and its bindings;
- every `def` and `class` line, so their names stay bound;
- whole any function holding a candidate line, so the site's enclosing
  scopes are intact (in a class, only the methods holding one), and whole any
  function or class with a `global` or `nonlocal` statement, since it may
  rebind a name the site uses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: Reduce only when it leaves at most this share of the lines: small gains are
#: not worth a second LibCST parse when a fix is needed.
WORTHWHILE_SHARE = 0.7


def split_lines(text: str) -> list[str]:
    """Lines with their endings, as Python's tokenizer counts them (form feeds are not breaks)."""
    return _LINE.findall(text)


def reduced_source(text: str, tree: ast.Module, site_lines: Iterable[int]) -> str | None:
    """`text` with the bodies away from `site_lines` blanked; None when that saves little."""
    lines = split_lines(text)
    sites = sorted(set(site_lines))
    blanked = 0
    for first, last in _blankable_bodies(tree.body, sites, lines):
        lines[first - 1] = _pass_line(lines[first - 1])
        for number in range(first + 1, last + 1):
            lines[number - 1] = _ending(lines[number - 1])
        blanked += last - first
    if blanked == 0 or len(lines) - blanked > WORTHWHILE_SHARE * len(lines):
        return None
    return "".join(lines)


def _blankable_bodies(statements: list[ast.stmt], sites: list[int], lines: list[str]) -> Iterable[tuple[int, int]]:
    """(first, last) line of each body to blank, outermost first, never overlapping."""
    for statement in statements:
        if isinstance(statement, _SCOPES):
            if _rebinds_outer_names(statement):
                continue
            holds_a_site = _holds_a_site(statement, sites)
            span = None if holds_a_site else _body_span(statement, lines)
            if span is not None:
                yield span
            elif isinstance(statement, ast.ClassDef):
                # Methods see nothing of their class's scope: those without a site can go.
                yield from _blankable_bodies(statement.body, sites, lines)
            continue
        # Module-level compound statements (`if TYPE_CHECKING:`, `try:`) stay,
        # but the functions inside them can still be blanked.
        for field in ("body", "orelse", "finalbody"):
            yield from _blankable_bodies(getattr(statement, field, None) or [], sites, lines)
        for handler in getattr(statement, "handlers", None) or []:
            yield from _blankable_bodies(handler.body, sites, lines)
        for case in getattr(statement, "cases", None) or []:
            yield from _blankable_bodies(case.body, sites, lines)


def _holds_a_site(node: ast.stmt, sites: list[int]) -> bool:
    first = _first_line(node)
    last = node.end_lineno or node.lineno
    return any(first <= line <= last for line in sites)


def _rebinds_outer_names(node: ast.stmt) -> bool:
    return any(isinstance(inner, (ast.Global, ast.Nonlocal)) for inner in ast.walk(node))


def _body_span(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> tuple[int, int] | None:
    """The body's lines when the body starts on a line of its own; None otherwise (`def f(): pass`)."""
    body = node.body
    first = _first_line(body[0])
    # A docstring or statement sharing the header's line cannot be blanked by whole lines.
    if first <= node.lineno or lines[first - 1][: _first_column(body[0])].strip():
        return None
    last = node.end_lineno or first
    if last <= first:
        return None
    return first, last


def _first_line(statement: ast.stmt) -> int:
    """Where a statement starts: its first decorator for a decorated `def` or `class`."""
    decorators = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def _first_column(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or []
    # `@` sits one column before the decorator expression.
    return decorators[0].col_offset - 1 if decorators else statement.col_offset


def _pass_line(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return f"{indent}pass{_ending(line)}"


def _ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""
