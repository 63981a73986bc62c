"""Names a file binds to another name by plain assignment (`fetch = load`), read from the text.

The analysis follows such an alias to what its value is where it is written
(`FileContext.alias_outcomes`). The prefilters decide by the names a call
spells, before any parse: `await fetch()` spells `fetch`, which names no
target. So each prefilter asks this module what else a callee's head may be,
and judges those names too. Reading is per name asked about (a `find` for
each place the text spells it), not a scan of every assignment of the file:
prefilters ask about a few awaited callees per file.

Only what `resolution.aliased_value` follows is read: one statement on one
line, `new = old`, `a = new = old` or `new: T = old`, where `old` is a name
or a dotted name. A text match inside a string only adds names (more files
parsed, never fewer findings).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

#: One alias statement, matched from its line's start or a `;`: the targets (group 1) and the value (group 2).
_ALIAS_STATEMENT = re.compile(
    r"[ \t]*"
    r"((?:[^\W\d]\w*[ \t]*(?::[^=\n;#]*)?=(?!=)[ \t]*)+)"
    r"([^\W\d]\w*(?:\.[^\W\d]\w*)*)[ \t]*(?=[;#\r\n]|\Z)"
)
_TARGET = re.compile(r"([^\W\d]\w*)[ \t]*(?::[^=\n;#]*)?=")
#: What follows a value: the end of its statement.
_VALUE_END = re.compile(r"[ \t]*(?:[;#\r\n]|\Z)")
#: What follows a target: maybe an annotation, then `=`.
_TARGET_END = re.compile(r"[ \t]*(?::[^=\n;#]*)?=(?!=)")
#: The character right after a value, and after a target ("": the text's end); checked before the patterns.
_AFTER_VALUE = frozenset({"", " ", "\t", "\r", "\n", ";", "#"})
_AFTER_TARGET = frozenset({" ", "\t", ":", "="})
#: Values that are no names: constants (`x = None`) and expressions (`x = yield`, `x = await`...).
_CONSTANTS = frozenset(keyword.kwlist)
#: Enough for chains of aliases; bounds cycles (`a = b; b = a`) and pathologies.
_MAX_STEPS = 64


class AssignedAliases:
    """One file's text, asked which names or dotted names it assigns to a name, and the other way round."""

    def __init__(self, text: str):
        self.text = text
        self._values: dict[str, frozenset[str]] = {}

    def values(self, name: str) -> frozenset[str]:
        """The names and dotted names the text assigns to `name`, anywhere in the file."""
        if name not in self._values:
            found = set()
            for targets, value in self._statements_spelling(name):
                if name in targets and value != name and value not in _CONSTANTS:
                    found.add(value)
            self._values[name] = frozenset(found)
        return self._values[name]

    def names_for(self, words: Iterable[str]) -> dict[str, set[str]]:
        """Names the text assigns one of `words` to (the value's last name), through chains: name -> those words.

        `grab = pkg.factory` gives {"grab": {"factory"}}, and `take = grab`
        then gives "take" too. A `find` per word: one pass of a regular
        expression over every `=` of the text cost the screening more.
        """
        found: dict[str, set[str]] = {}
        pending = [(word, word) for word in words]
        while pending:
            spelled, word = pending.pop()
            for targets, value in self._statements_spelling(spelled, as_value=True):
                if value.rpartition(".")[2] != spelled or value in _CONSTANTS:
                    continue
                for target in targets:
                    known = found.setdefault(target, set())
                    if target != word and word not in known:
                        known.add(word)
                        pending.append((target, word))
        return {name: meant for name, meant in found.items() if meant}

    def _statements_spelling(self, word: str, as_value: bool = False) -> Iterable[tuple[list[str], str]]:
        """(targets, value) of each alias statement spelling `word`.

        `as_value`: only where `word` ends its statement, as a value does;
        else only where `=` follows it, as a target. Most places a word is
        spelled (`self.`, its calls) are ruled out before the statement is read.
        """
        text = self.text
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            follows = text[end : end + 1]
            whole = follows in (_AFTER_VALUE if as_value else _AFTER_TARGET) and not _is_word_character(text, start - 1)
            if whole:
                whole = (_VALUE_END if as_value else _TARGET_END).match(text, end) is not None
            if whole:
                line_start = text.rfind("\n", 0, start) + 1
                statement = _ALIAS_STATEMENT.match(text, max(line_start, text.rfind(";", line_start, start) + 1))
                if statement is not None and statement.start(1) <= start < statement.end(2):
                    yield _TARGET.findall(statement.group(1)), statement.group(2)
            start = text.find(word, end)

    def callees(self, callees: Iterable[str]) -> set[str]:
        """Callee keys ("f", "head.last") and what each may be through the aliases of its head, to a fixpoint.

        `w = pkg.ws` makes "w.load" also "pkg.load"; `fetch = pkg.ws.load`
        makes "fetch" also "pkg.load"; `fetch = load` makes it "load".
        """
        found = set(callees)
        pending = list(found)
        steps = 0
        while pending and steps < _MAX_STEPS:
            steps += 1
            key = pending.pop()
            head, dot, last = key.partition(".")
            for value in self.values(head):
                first, _, rest = value.partition(".")
                if dot:
                    aliased = f"{first}.{last}"
                else:
                    aliased = f"{first}.{rest.rpartition('.')[2]}" if rest else first
                if aliased not in found:
                    found.add(aliased)
                    pending.append(aliased)
        return found


def _is_word_character(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] == "_")
