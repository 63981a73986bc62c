"""Proof from the text alone that a call of a target is its correct use: `async with target(...) as client:`.

In a real service most calls of a ClickHouse factory are right, and each
one sent its file to an `ast` parse (about 10 µs a line) in the screening
and again in the prefilter, only for `_ShapeFilter` to clear it. The text
can already tell the common shape: a line that starts with `async with`,
then the call with plain arguments on the same line (no brackets, quotes,
comments or backslashes), then `as name:` or `:`. That line is either such
a statement, whose first item's expression is that call, or the inside of
a string, where there is no call at all; any other line holding it would
not parse. The analysis reports nothing of such a call itself
(`_FileCheck.check_site`); with case 4, it looks into the body for a
coroutine method of `client` called without `await`, so then every
`client` of the file must be visibly harmless too (`_ClientUses`).

Anything else is not proven harmless, and the caller falls back on `ast`.
"""

from __future__ import annotations

import re

from codefix.lexical import starts_word

#: What may come before the target on its line: `async with` and nothing else.
_ENTERING = re.compile(r"[ \t]*async[ \t]+with[ \t]+")
#: The call's plain arguments, then `as name:` or `:`; `(?!=)` leaves out `:=`, which would not parse anyway.
_ENTERED_CALL = re.compile(r"[ \t]*\([^()\[\]{}'\"#\\\r\n]*\)[ \t]*(?:as[ \t]+([^\W\d]\w*)[ \t]*)?:(?!=)")
_WORD = re.compile(r"\w+")
#: A name after a dot on the same line: `client.execute`.
_ATTRIBUTE = re.compile(r"[ \t]*\.[ \t]*(\w+)")
#: What may carry an expression on to the next line, where a method could follow unseen.
_CONTINUES = frozenset("\\#\r\n")


class EnteredCalls:
    """Which calls of a file's text are entered correctly, with what each client's uses need (`methods`)."""

    def __init__(self, text: str, methods: frozenset[str] | None):
        self.text = text
        #: The client's coroutine methods when the rule checks them (case 4), else None.
        self.methods = methods
        self._clients: dict[str, bool] = {}

    def all_harmless(self, offsets: list[int]) -> bool:
        return all(self.harmless(offset) for offset in offsets)

    def harmless(self, offset: int) -> bool:
        """Whether the call whose callee's name starts at `offset` is proven correct (see the module docstring)."""
        text = self.text
        line_start = text.rfind("\n", 0, offset) + 1
        if not _ENTERING.fullmatch(text, line_start, offset):
            return False
        word = _WORD.match(text, offset)
        entered = _ENTERED_CALL.match(text, word.end()) if word else None
        if entered is None:
            return False
        client = entered.group(1)
        if client is None or self.methods is None:
            return True
        if client not in self._clients:
            self._clients[client] = _ClientUses(text, client, self.methods).all_awaited()
        return self._clients[client]


class _ClientUses:
    """Every use of a client's name in the text, and whether none can be an un-awaited coroutine method call."""

    def __init__(self, text: str, name: str, methods: frozenset[str]):
        self.text = text
        self.name = name
        self.methods = methods

    def all_awaited(self) -> bool:
        # No look-behind in the pattern: one starting with the literal name jumps from one occurrence to the next.
        for found in re.finditer(re.escape(self.name) + r"(?!\w)", self.text):
            if starts_word(self.text, found.start()) and not self._harmless_use(found.start(), found.end()):
                return False
        return True

    def _harmless_use(self, start: int, end: int) -> bool:
        """`client` not followed by `.method` of `methods`, or awaited right there: `await client.execute(q)`.

        A line ending (or a backslash, or a comment) right after the name
        may hide a dot on the next line: not harmless.
        """
        text = self.text
        following = end
        while following < len(text) and text[following] in " \t":
            following += 1
        if following == len(text) or text[following] in _CONTINUES:
            return False
        if text[following] != ".":
            return True
        attribute = _ATTRIBUTE.match(text, end)
        if attribute is None:
            return False
        if attribute.group(1) not in self.methods:
            return True
        return _awaited_at(text, start)


def _awaited_at(text: str, start: int) -> bool:
    """Whether `await` stands right before `start`, on the same line, as a whole word."""
    before = start
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    if before == start or not text.endswith("await", 0, before):
        return False
    return starts_word(text, before - 5) and text[before - 6 : before - 5] != "."
