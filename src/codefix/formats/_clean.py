"""Text that every consumer can store: what a file name or message may hold that a report may not.

Paths of files with non-UTF-8 bytes in their names reach us as lone
surrogates (Python's `surrogateescape`); no UTF-8 writer accepts them, and
XML 1.0 has no way at all to carry most control characters. Both are shown
as `\\xNN`, the way Python prints such bytes, so the reader still sees
which file is meant.
"""

from __future__ import annotations

import re

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def readable(text: str) -> str:
    """`text` with undecodable bytes written as `\\xNN`; always encodable as UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def xml_text(text: str) -> str:
    """`readable(text)` without the characters XML 1.0 forbids (written as `\\xNN` too)."""
    return _NOT_XML.sub(_escape, readable(text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
