"""The top-level keys of `[tool.codefix]`: their defaults and the checks their values must pass.

Kept apart from the loading in `config.py` so that the loader, the `codefix
config` renderer and the README describe one list. Every check raises a
`ConfigurationError` whose single line names the file and the key, because
that is all a user needs to find the mistake.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from codefix.discovery import DEFAULT_EXCLUDE
from codefix.index_cache import CACHE_DIR
from codefix.rules import RULES_BY_ID, ConfigurationError

#: Top-level keys with their defaults; `select` None means "the rules on by default".
DEFAULTS: dict[str, Any] = {
    "select": None,
    "ignore": [],
    "exclude": list(DEFAULT_EXCLUDE),
    "extend-exclude": [],
    "respect-gitignore": True,
    "force-exclude": False,
    "cache-dir": CACHE_DIR,
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for a near miss, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ConfigurationError(f"{where} must be a list of non-empty strings")
    return list(value)


def _rule_ids(value: Any, where: str) -> list[str]:
    ids = _string_list(value, where)
    for rule_id in ids:
        if rule_id not in RULES_BY_ID:
            raise ConfigurationError(f"{where}: unknown rule {rule_id!r}{did_you_mean(rule_id, RULES_BY_ID)}")
    return list(dict.fromkeys(ids))


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where} must be true or false")
    return value


def _folder(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where} must be a folder path (a non-empty string)")
    return value


CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "select": _rule_ids,
    "ignore": _rule_ids,
    "exclude": _string_list,
    "extend-exclude": _string_list,
    "respect-gitignore": _boolean,
    "force-exclude": _boolean,
    "cache-dir": _folder,
}


def check_key(key: str, value: Any, where: str) -> Any:
    """The validated value of top-level `key`; `where` is `FILE: tool.codefix.KEY` or `FILE: KEY`."""
    return CHECKS[key](value, where)
