"""`# codefix: ignore` and `# codefix: ignore[rule-a, rule-b]` comments.

Comments are found with `tokenize`, so the same text inside a string or a
docstring suppresses nothing.
"""

from __future__ import annotations

import io
import re
import tokenize

_MARKER = "codefix: ignore"
_PATTERN = re.compile(r"#.*?\bcodefix:\s*ignore(?:\[(?P<rules>[^\]]*)\])?")

#: Stands for "every rule" in a line's set of suppressed rules.
ALL = "*"


def suppressions(text: str) -> dict[int, frozenset[str]]:
    """Line number -> rule ids suppressed on that line (ALL for a bare comment)."""
    if _MARKER not in text and "codefix:ignore" not in text:
        return {}
    found: dict[int, frozenset[str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _PATTERN.search(token.string)
            if match is None:
                continue
            rules = match.group("rules")
            ids = frozenset(r.strip() for r in rules.split(",") if r.strip()) if rules is not None else frozenset({ALL})
            found[token.start[0]] = found.get(token.start[0], frozenset()) | ids
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def is_suppressed(table: dict[int, frozenset[str]], rule: str, lines: tuple[int, ...]) -> bool:
    for line in lines:
        ids = table.get(line)
        if ids and (ALL in ids or rule in ids):
            return True
    return False
