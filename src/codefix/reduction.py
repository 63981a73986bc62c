"""A smaller copy of a source file for LibCST: only the code around candidate sites.

LibCST's metadata (scopes, positions, parents) costs tens of microseconds a
line, blank lines included, and the files that hold a candidate site are
often the largest of a project. Rules look at a site, the functions around
it and the module's bindings, never inside an unrelated function. So before
LibCST sees a file:
- a top-level `def` or `class` that holds no candidate line and whose name
  nothing kept mentions is left out, decorators included;
- any other function without a candidate line keeps its header, and its body
  becomes one `pass`; so does a class, unless it holds a candidate line, in
  which case its methods without one are left out or hollowed the same way;
- inside a function that holds a candidate line, a statement that holds
  none and spells no word the kept statements spell is left out (`_Thinner`):
  in real services, most of such a function is code about something else.

Kept lines keep their exact text, so columns do not change; the copy comes
with the original number of each of its lines, and `FileContext` hands rules
positions in the file's own numbering (see `MappedPositions`). Fixes rewrite
the copy too, and the lines they change go back into the file
(`splice_back`); when a change reaches a line the copy left out or stands in
for, the engine fixes the whole file instead.

What stays, because the answer at a site can depend on it:
- module-level statements (imports, assignments, `try` fallbacks): the
  module scope and its bindings;
- of a function holding a candidate line: the statements around each such
  line (`with pytest.raises(...)`, `try` and its `except` clauses), the rest
  of each block after it (a fix may move them: clickhouse-async wraps them
  in the `async with` it writes), and, until nothing changes, every statement
  spelling a word that kept statements of the function spell, starting from
  the candidate lines' words: a name a site uses is bound, or an object it
  holds is used, only where the name is spelled (nested functions and
  classes are kept whole or left out whole);
- whole, any function with a `global` statement, which may rebind a name a
  site uses (of a class, only such methods);
- the header of every function or class whose name kept code mentions.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import enum
import keyword
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codefix.lazy_libcst import cst
from codefix.lexical import WORD, lines_at, split_lines, word_offsets

if TYPE_CHECKING:
    from libcst.metadata import CodeRange

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: Words no name can be: a kept `else:` or `return` must not keep every statement spelling "else" or "return".
_KEYWORDS = frozenset(keyword.kwlist)
#: Reduce only when the copy keeps at most this share of the lines: a small
#: gain is not worth the second LibCST parse a fix then needs.
WORTHWHILE_SHARE = 0.7


@dataclass(frozen=True)
class Reduced:
    text: str
    #: The file's line number of each line of `text` (index 0 is line 1).
    original_lines: tuple[int, ...]


class _Fate(enum.Enum):
    KEEP = "keep"
    HOLLOW = "hollow"  # header kept, body one `pass`
    DROP = "drop"


def reduce_source(
    text: str,
    tree: ast.Module,
    site_lines: Iterable[int],
    emptied: Sequence[tuple[int, int]] = (),
    looked_up: frozenset[str] = frozenset(),
) -> Reduced | None:
    """The copy of `text` LibCST needs for these sites; None when it would save little.

    `emptied`: stretches of lines the screening emptied (`index.partial_text`),
    left out of the copy whatever it saves. `looked_up`: names the rules
    resolve without kept code spelling them (`Rule.looked_up_names`): their
    definitions stay, as if spelled.
    """
    lines = split_lines(text)
    sites = sorted(set(site_lines))
    plan = _Planner(sites, lines, text, looked_up)
    plan.module(tree.body)
    for first, last in emptied:
        plan.replaced.setdefault(first, (last, None))
    if not plan.replaced:
        return None
    # Whole stretches of kept lines are copied by slicing: a step per replaced stretch, not per line.
    kept: list[str] = []
    numbers: list[int] = []
    next_line = 1  # the first line not yet copied or replaced
    for first in sorted(plan.replaced):
        if first < next_line:
            continue  # inside a stretch already replaced
        last, new_line = plan.replaced[first]
        kept.extend(lines[next_line - 1 : first - 1])
        numbers.extend(range(next_line, first))
        if new_line is not None:
            kept.append(new_line)
            numbers.append(first)
        next_line = max(next_line, last + 1)
    kept.extend(lines[next_line - 1 :])
    numbers.extend(range(next_line, len(lines) + 1))
    if not emptied and len(kept) > WORTHWHILE_SHARE * len(lines):
        return None
    return Reduced("".join(kept), tuple(numbers))


class _Planner:
    """Decides the fate of every scope statement, outermost first."""

    def __init__(self, sites: Sequence[int], lines: list[str], text: str, looked_up: frozenset[str] = frozenset()):
        self.sites = sites
        self.looked_up = looked_up
        self.lines = lines
        #: Lines that spell `global`: only scopes spanning one need a walk to see if they rebind.
        self.rebinding_lines = sorted(set(lines_at(text, word_offsets(text, ("global",)))))
        #: first line -> (last line, the line replacing them or None to drop them).
        self.replaced: dict[int, tuple[int, str | None]] = {}

    def module(self, statements: list[ast.stmt]) -> None:
        scopes = [s for s in statements if isinstance(s, _SCOPES)]
        fates = {id(s): self._fate_with_a_site(s) for s in scopes}
        kept = [s for s in scopes if fates[id(s)] is _Fate.KEEP]
        mentioned = _mentioned_names(statements) | self._spelled_in(kept) | self.looked_up
        for statement, following in zip(statements, self._followers(statements, len(self.lines) + 1)):
            if not isinstance(statement, _SCOPES):
                self._inner_blocks(statement)
                continue
            fate = fates[id(statement)]
            if fate is _Fate.KEEP:
                if isinstance(statement, ast.ClassDef):
                    self._class_body(statement, following)
                else:
                    self._thin(statement)
            elif statement.name in mentioned:
                self._hollow(statement, following)
            else:
                self._drop(statement, following)

    def _spelled_in(self, scopes: list[ast.stmt]) -> set[str]:
        """Every word of these scopes' lines: what `_mentioned_names` finds in them and more (comments, strings).

        Words of the text instead of a walk of every node of every kept
        scope, the largest functions of the file (a string constant that is
        an identifier, `getattr(mod, "f")`, is a word of the text too).
        """
        return {
            word
            for scope in scopes
            for word in WORD.findall("".join(self.lines[_first_line(scope) - 1 : scope.end_lineno or scope.lineno]))
        }

    @staticmethod
    def _followers(statements: list[ast.stmt], after_last: int) -> list[int]:
        """For each statement, the first line of the next one: the lines between are blank or comments."""
        return [_first_line(statement) for statement in statements[1:]] + [after_last]

    def _rebinds_outer_names(self, node: ast.stmt) -> bool:
        """Whether a `global` inside `node` rebinds a module-level name a site may use (then it is kept).

        A `nonlocal` only rebinds a name of a function around it, which is
        inside `node` or is `node`: nothing outside sees it. A class is kept
        for its rebinding methods only (`_class_body`). The text is asked
        first: walking every scope's tree cost more than LibCST's own parse
        of the reduced copy.
        """
        if not _holds_a_site(node, self.rebinding_lines):
            return False
        return any(isinstance(inner, ast.Global) for inner in ast.walk(node))

    def _fate_with_a_site(self, node: ast.stmt) -> _Fate:
        if self._rebinds_outer_names(node) or _holds_a_site(node, self.sites):
            return _Fate.KEEP
        return _Fate.HOLLOW

    def _class_body(self, node: ast.ClassDef, following: int) -> None:
        """A class holding a site: its methods see nothing of its scope, so those without a site go."""
        for statement, next_line in zip(node.body, self._followers(node.body, following)):
            if not isinstance(statement, _SCOPES):
                continue
            if self._rebinds_outer_names(statement):
                continue
            if not _holds_a_site(statement, self.sites):
                self._drop(statement, next_line)
            elif isinstance(statement, ast.ClassDef):
                self._class_body(statement, next_line)
            else:
                self._thin(statement)

    def _inner_blocks(self, statement: ast.stmt) -> None:
        """Functions inside module-level `if`/`try` blocks: hollowed, never dropped (a block needs a body)."""
        for block in _blocks(statement):
            for inner in block:
                if isinstance(inner, _SCOPES):
                    if self._fate_with_a_site(inner) is _Fate.KEEP:
                        if not isinstance(inner, ast.ClassDef):
                            self._thin(inner)
                        continue
                    self._hollow(inner)
                else:
                    self._inner_blocks(inner)

    def _thin(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Leave out what nothing at the function's sites can depend on (see the module docstring).

        A function kept for rebinding a global is kept whole: its other
        statements are what other functions' sites depend on.
        """
        if not _holds_a_site(function, self.sites) or self._rebinds_outer_names(function):
            return
        _Thinner(self, function).plan()

    def _hollow(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, following: int | None = None) -> None:
        """Keep the header, make the body one `pass`; with `following`, drop the blank lines up to it too."""
        body = node.body
        first = _first_line(body[0])
        last = max(node.end_lineno or first, (following or 0) - 1)
        # A body sharing the header's line cannot be replaced by whole lines.
        if first <= node.lineno or self.lines[first - 1][: _first_column(body[0])].strip() or last <= first:
            return
        self.replaced[first] = (last, _pass_line(self.lines[first - 1]))

    def _drop(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, following: int) -> None:
        """Leave the statement out, and the blank and comment lines up to the next one."""
        first = _first_line(node)
        last = max(node.end_lineno or node.lineno, following - 1)
        # Only whole lines: the statement must start its first line.
        if self.lines[first - 1][: _first_column(node)].strip():
            self._hollow(node)
            return
        self.replaced[first] = (last, None)


class _Thinner:
    """Chooses the statements of one function holding a site that stay in the copy (`_Planner._thin`)."""

    def __init__(self, planner: _Planner, function: ast.FunctionDef | ast.AsyncFunctionDef):
        self.planner = planner
        self.lines = planner.lines
        self.function = function
        first, last = function.lineno, function.end_lineno or function.lineno
        at = bisect.bisect_left(planner.sites, first)
        site_lines = planner.sites[at : bisect.bisect_right(planner.sites, last)]
        #: Words kept code spells: the sites' lines and the names rules look up, then every kept statement's.
        self.needed: set[str] = set(planner.looked_up)
        for line in site_lines:
            self.needed.update(WORD.findall(self.lines[line - 1]))
        self.needed -= _KEYWORDS
        #: Statements kept whole (by id), for what they spell or for the block's shape; the words of each once read.
        self.kept: set[int] = set()
        self.shaping: set[int] = set()
        self._words: dict[int, set[str]] = {}

    def plan(self) -> None:
        while True:
            before = (len(self.needed), len(self.kept))
            self._choose(self.function.body)
            if (len(self.needed), len(self.kept)) == before:
                break
        self._leave_out(self.function.body)

    def _words_of(self, statement: ast.stmt, first: int, last: int) -> set[str]:
        known = self._words.get(id(statement))
        if known is None:
            known = self._words[id(statement)] = set(WORD.findall("".join(self.lines[first - 1 : last]))) - _KEYWORDS
        return known

    def _choose(self, block: list[ast.stmt]) -> None:
        """Mark what `block` keeps whole, and gather the words of what it keeps.

        Statements sharing a line all stay; so does everything after a
        statement holding a site: a fix may move the rest of the block
        (clickhouse-async wraps it in the `async with` it writes). Those are
        kept for the block's shape, not for a site: their words are not
        needed (a function's last `return` would otherwise keep everything
        it uses, most of the function).
        """
        shared = _shares_lines(block, self.lines)
        after_a_site = False
        for statement in block:
            first, last = _first_line(statement), statement.end_lineno or statement.lineno
            holds_a_site = _holds_a_site(statement, self.planner.sites)
            if holds_a_site and _blocks_of(statement):
                self.needed |= self._own_words(statement, first, last)
                for inner in _blocks_of(statement):
                    self._choose(inner)
            elif id(statement) not in self.kept:
                words = self._words_of(statement, first, last)
                if shared or holds_a_site or not words.isdisjoint(self.needed):
                    self.kept.add(id(statement))
                    self.needed |= words
                elif after_a_site:
                    self.shaping.add(id(statement))
            after_a_site = after_a_site or holds_a_site

    def _own_words(self, statement: ast.stmt, first: int, last: int) -> set[str]:
        """Words of a compound statement's own lines (its headers, `else:`, `except E as e:`), not its blocks'.

        Kept in the same table as `_words_of`: a statement holding a site is
        asked one or the other, never both.
        """
        known = self._words.get(id(statement))
        if known is None:
            inner = {
                line
                for block in _blocks_of(statement)
                for child in block
                for line in range(_first_line(child), (child.end_lineno or child.lineno) + 1)
            }
            own = [self.lines[line - 1] for line in range(first, last + 1) if line not in inner]
            known = self._words[id(statement)] = set(WORD.findall("".join(own))) - _KEYWORDS
        return known

    def _leave_out(self, block: list[ast.stmt]) -> None:
        """Drop the statements of `block` not chosen; a block left empty keeps one `pass` where its first statement was."""
        dropped = []
        for statement in block:
            if id(statement) in self.kept or id(statement) in self.shaping:
                continue
            if _holds_a_site(statement, self.planner.sites):
                for inner in _blocks_of(statement):
                    self._leave_out(inner)
                continue
            dropped.append(statement)
        if not dropped:
            return
        for statement in dropped:
            self.planner.replaced[_first_line(statement)] = (statement.end_lineno or statement.lineno, None)
        if len(dropped) == len(block):
            first = _first_line(block[0])
            self.planner.replaced[first] = (block[0].end_lineno or block[0].lineno, _pass_line(self.lines[first - 1]))


def _blocks_of(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The blocks of a compound statement other than a function or class (kept or left out whole)."""
    return [] if isinstance(statement, _SCOPES) else list(_blocks(statement))


def _shares_lines(block: list[ast.stmt], lines: list[str]) -> bool:
    """Whether a statement of `block` shares a line with another, or does not start its line (`if x: y`): whole lines cannot part them."""
    previous_end = 0
    for statement in block:
        first = _first_line(statement)
        if first <= previous_end or lines[first - 1][: _first_column(statement)].strip():
            return True
        previous_end = statement.end_lineno or statement.lineno
    return False


def _blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        block = getattr(statement, field, None)
        if isinstance(block, list) and block:
            yield block
    for handler in getattr(statement, "handlers", None) or []:
        yield handler.body
    for case in getattr(statement, "cases", None) or []:
        yield case.body


def _mentioned_names(statements: list[ast.stmt]) -> set[str]:
    """Every name and attribute module-level code and the headers of all scopes spell (kept scopes: `_Planner._spelled_in`)."""
    names: set[str] = set()
    roots: list[ast.AST] = [s for s in statements if not isinstance(s, _SCOPES)]
    for scope in statements:
        if isinstance(scope, _SCOPES):
            roots.extend(scope.decorator_list)
            if isinstance(scope, ast.ClassDef):
                roots.extend([*scope.bases, *scope.keywords])
            else:
                roots.append(scope.args)
                if scope.returns is not None:
                    roots.append(scope.returns)
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names.add(node.value)  # `__all__ = ["f"]`, `getattr(mod, "f")`
    return names


def _holds_a_site(node: ast.stmt, sites: Sequence[int]) -> bool:
    """Whether one of `sites` (sorted line numbers) falls within the statement's lines."""
    first = _first_line(node)
    last = node.end_lineno or node.lineno
    position = bisect.bisect_left(sites, first)
    return position < len(sites) and sites[position] <= last


def _first_line(statement: ast.stmt) -> int:
    """Where a statement starts: its first decorator for a decorated `def` or `class`."""
    decorators = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def _first_column(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None) or []
    # `@` sits one column before the decorator expression (`@ name` is rare; strip() copes).
    return max(decorators[0].col_offset - 1, 0) if decorators else statement.col_offset


def _pass_line(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return f"{indent}pass{_ending(line)}"


def _ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""


def splice_back(original: str, reduced: Reduced, rewritten: str) -> tuple[str, Reduced] | None:
    """`original` with the lines a fix changed in its reduced copy changed the same way, and the rewritten copy's map.

    Fixing a whole file cost LibCST's parse and metadata of all of it, at
    each step of a fix: minutes for a monorepo's largest modules. Fixes
    only rewrite code LibCST read, so the copy is rewritten instead and
    each changed stretch of its lines goes back where it came from; the
    rewritten copy comes back with its lines numbered in the new file, for
    the next step. None when a change reaches a line that is not the
    file's own (a `pass` standing for a body) or spans, or lands in, a
    place where the copy left lines out: where it belongs is then not
    known, and the caller fixes the whole file.
    """
    before = split_lines(reduced.text)
    after = split_lines(rewritten)
    lines = split_lines(original)
    numbers = reduced.original_lines
    if not numbers or len(numbers) != len(before):
        return None
    edits: list[tuple[int, int, int, int, int]] = []  # (first original line, i1, i2, j1, j2)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            first = numbers[i1]
            if numbers[i2 - 1] - first != i2 - i1 - 1:
                return None
            if any(lines[numbers[k] - 1] != before[k] for k in range(i1, i2)):
                return None
        else:
            first = _insertion_line(numbers, i1, len(lines))
            if first is None:
                return None
        edits.append((first, i1, i2, j1, j2))
    spliced: list[str] = []
    new_numbers: list[int] = []
    next_line = 1  # the first original line not yet copied
    shift = 0  # new line number minus original line number, after the edits so far
    previous_i = 0
    for first, i1, i2, j1, j2 in edits:
        # Lines of the copy before this edit are unchanged: they keep their line, shifted.
        new_numbers.extend(number + shift for number in numbers[previous_i:i1])
        spliced.extend(lines[next_line - 1 : first - 1])
        spliced.extend(after[j1:j2])
        new_numbers.extend(range(first + shift, first + shift + j2 - j1))
        next_line = first + i2 - i1
        shift += (j2 - j1) - (i2 - i1)
        previous_i = i2
    new_numbers.extend(number + shift for number in numbers[previous_i:])
    spliced.extend(lines[next_line - 1 :])
    return "".join(spliced), Reduced(rewritten, tuple(new_numbers))


def _insertion_line(numbers: Sequence[int], at: int, line_count: int) -> int | None:
    """The original line before which lines inserted before the copy's line `at` (0-based) go; None if unsure."""
    if at == 0:
        return 1 if numbers and numbers[0] == 1 else None
    if at == len(numbers):
        return line_count + 1 if numbers[-1] == line_count else None
    return numbers[at] if numbers[at] == numbers[at - 1] + 1 else None


class MappedPositions(Mapping):
    """LibCST positions of a reduced copy, told in the original file's lines."""

    def __init__(self, positions: Mapping, original_lines: Sequence[int]):
        self._positions = positions
        self._lines = original_lines

    def __getitem__(self, node: object) -> CodeRange:
        span = self._positions[node]
        metadata = cst.metadata
        return metadata.CodeRange(
            metadata.CodePosition(self._line(span.start.line), span.start.column),
            metadata.CodePosition(self._line(span.end.line), span.end.column),
        )

    def offsets(self, node: object) -> tuple[int, int]:
        """The node's character offsets in the reduced copy: they order nodes as the file's positions do."""
        return self._positions.offsets(node)

    def _line(self, line: int) -> int:
        if line - 1 < len(self._lines):
            return self._lines[line - 1]
        return self._lines[-1] + (line - len(self._lines)) if self._lines else line

    def __iter__(self):
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)
