"""The positions LibCST's `PositionProvider` gives, at a third of its cost.

Every finding needs the line and column of the node it points at, and the
async-context rule compares positions of names to tell which binding a use
sees; so each analysed file paid for `PositionProvider`, which generates the
module's code with a `CodePosition` per token and per node, splitting every
token on newlines and entering a `contextlib` context manager for most nodes:
0.8 ms for a 13-line reduced file, more than the LibCST parse itself.

Here the same code generation only counts characters: each node gets its
(start, end) offsets in the generated text, the syntactic ones where LibCST
records them (`record_syntactic_position`, here a small class instead of a
generator-based context manager), and lines and columns are worked out for
a node only when asked for, from the offsets where lines start. Lines start
where LibCST's `NEWLINE_RE` matches within a token, as LibCST counts them.
tests/test_positions.py checks every node of real modules against LibCST.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping

from libcst import CSTNode, Module
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import NEWLINE_RE


class _OffsetRecorder(CodegenState):
    """Code generation that records each node's offsets in the text it generates."""

    def __init__(self, module: Module):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        #: id(node) -> (node, start, end).
        self.spans: dict[int, tuple[CSTNode, int, int]] = {}
        self.popped: list[str] = []
        self._starts: list[int] = []

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def pop_trailing_newline(self) -> None:
        # LibCST's positions keep counting the popped newline; so do the offsets.
        if self.tokens:
            self.popped.append(self.tokens.pop())

    def before_codegen(self, node: CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: CSTNode) -> None:
        start = self._starts.pop()
        if id(node) not in self.spans:  # a syntactic position recorded inside wins
            self.spans[id(node)] = (node, start, self.offset)

    def record_syntactic_position(  # type: ignore[override]
        self, node: CSTNode, *, start_node: CSTNode | None = None, end_node: CSTNode | None = None
    ) -> _SyntacticSpan:
        return _SyntacticSpan(self, node, start_node, end_node)


class _SyntacticSpan:
    """`record_syntactic_position` of `PositionProvidingCodegenState`, without a generator."""

    __slots__ = ("end_node", "node", "recorder", "start", "start_node")

    def __init__(self, recorder: _OffsetRecorder, node: CSTNode, start_node: CSTNode | None, end_node: CSTNode | None):
        self.recorder = recorder
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start = 0

    def __enter__(self) -> None:
        self.start = self.recorder.offset

    def __exit__(self, *exc_info: object) -> bool:
        spans = self.recorder.spans
        start = spans[id(self.start_node)][1] if self.start_node is not None else self.start
        end = spans[id(self.end_node)][2] if self.end_node is not None else self.recorder.offset
        spans[id(self.node)] = (self.node, start, end)
        return False


class SyntacticPositions(Mapping[CSTNode, CodeRange]):
    """What `MetadataWrapper.resolve(PositionProvider)` maps, for the module as it is."""

    def __init__(self, module: Module):
        recorder = _OffsetRecorder(module)
        module._codegen(recorder)
        self._spans = recorder.spans
        self._tokens = [*recorder.tokens, *recorder.popped]
        self._line_starts: list[int] | None = None

    def __getitem__(self, node: CSTNode) -> CodeRange:
        _, start, end = self._spans[id(node)]
        return CodeRange(self._position(start), self._position(end))

    def offsets(self, node: CSTNode) -> tuple[int, int]:
        """Where the node starts and ends in the module's code, in characters: what comparing positions needs."""
        _, start, end = self._spans[id(node)]
        return start, end

    def __iter__(self) -> Iterator[CSTNode]:
        return (node for node, _, _ in self._spans.values())

    def __len__(self) -> int:
        return len(self._spans)

    def __contains__(self, node: object) -> bool:
        return id(node) in self._spans

    def _position(self, offset: int) -> CodePosition:
        starts = self._line_starts
        if starts is None:
            starts = self._line_starts = _line_starts(self._tokens)
        line = bisect.bisect_right(starts, offset)
        return CodePosition(line, offset - starts[line - 1])


def _line_starts(tokens: list[str]) -> list[int]:
    """The offsets where lines start, newlines matched within each token as LibCST matches them."""
    starts = [0]
    at = 0
    for token in tokens:
        if "\n" in token or "\r" in token:
            starts.extend(at + match.end() for match in NEWLINE_RE.finditer(token))
        at += len(token)
    return starts
