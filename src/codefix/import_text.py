"""The `from ... import ...` statements of a text, read without parsing it.

The screening decides about files it never parses. To tell that an awaited
name is an imported `async def` (await-sync's most common false candidate
in a real service), it needs every `from` import that binds the name, with
certainty: a statement it cannot read plainly, or that binds the name some
way it does not follow, makes the answer "unknown", never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codefix.lexical import import_statements

#: `from <dots><module> import <names>`, the whole logical line (continuations already joined by the caller).
_FROM_IMPORT = re.compile(r"[ \t]*from[ \t]+(\.*)[ \t]*([^\W\d][\w.]*)?[ \t]+import\b(.*)", re.S)
_NAME_ITEM = re.compile(r"([^\W\d]\w*)(?:\s+as\s+([^\W\d]\w*))?")
_COMMENT = re.compile(r"#[^\n]*")


@dataclass(frozen=True)
class FromImport:
    """`from <level dots><module> import <name> as <bound>`."""

    level: int
    module: str
    name: str


class FromImports:
    """Every `from` import of a text, by the name it binds; and the words of the statements that could not be read."""

    def __init__(self, text: str):
        self.by_bound: dict[str, list[FromImport]] = {}
        #: Words of import statements read as something else than plain `from` imports (`a = 1; from m import f`).
        self.unread_words: set[str] = set()
        self.star = False
        for statement in import_statements(text):
            self._read(statement)

    def _read(self, statement: str) -> None:
        found = _FROM_IMPORT.fullmatch(statement.rstrip())
        names = _COMMENT.sub("", found.group(3)) if found else ""
        names = names.replace("\\\r\n", " ").replace("\\\n", " ").strip()
        if names.startswith("(") and names.endswith(")"):
            names = names[1:-1]
        items = [item.strip() for item in names.split(",")]
        if items and not items[-1] and len(items) > 1:
            items.pop()  # a trailing comma inside the parentheses
        parsed = [_NAME_ITEM.fullmatch(item) for item in items]
        if found is None or not all(parsed):
            if found is not None and names == "*":
                self.star = True
            else:
                self.unread_words.update(re.findall(r"\w+", statement))
            return
        level, module = len(found.group(1)), found.group(2) or ""
        for item in parsed:
            assert item is not None
            name, bound = item.group(1), item.group(2) or item.group(1)
            self.by_bound.setdefault(bound, []).append(FromImport(level, module, name))

    def bindings(self, name: str) -> list[FromImport] | None:
        """The `from` imports binding `name`; None when a statement that may bind it could not be read, or a star import may."""
        if self.star or name in self.unread_words:
            return None
        return self.by_bound.get(name, [])

