"""Marker names pytest and common plugins register themselves, and what counts as a typo of one.

A project never lists these in its own configuration, so they must never be
reported or written there. The plugin table is a fact about each plugin's
source (its `pytest_configure` hook); codefix does not check that the plugin
is installed, since it never runs the project's environment.

A typo is judged conservatively, because a false one hides a real marker
from registration: one edit (insert, delete, substitute or swap two
neighbouring letters) on names of at least five characters, two edits from
ten characters on, or a difference of case only. Names that differ only in
their numbers (`issue_1184` and `issue_1174`, `py311` and `py312`) are
distinct markers, never typos.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Registered by pytest itself.
BUILTIN_MARKERS = frozenset(
    {"filterwarnings", "parametrize", "skip", "skipif", "tryfirst", "trylast", "usefixtures", "xfail"}
)

#: Registered by plugins, with the plugin that registers each.
PLUGIN_MARKERS: dict[str, str] = {
    "asyncio": "pytest-asyncio",
    "timeout": "pytest-timeout",
    "xdist_group": "pytest-xdist",
    "no_cover": "pytest-cov",
    "benchmark": "pytest-benchmark",
    "django_db": "pytest-django",
    "urls": "pytest-django",
    "ignore_template_errors": "pytest-django",
    "order": "pytest-order",
    "flaky": "pytest-rerunfailures",
    "anyio": "anyio",
    "trio": "pytest-trio",
    "hypothesis": "hypothesis",
    "repeat": "pytest-repeat",
    "dependency": "pytest-dependency",
    "httpx_mock": "pytest-httpx",
    "enable_socket": "pytest-socket",
    "disable_socket": "pytest-socket",
    "allow_hosts": "pytest-socket",
    "vcr": "pytest-recording",
    "block_network": "pytest-recording",
    "default_cassette": "pytest-recording",
    "freeze_time": "pytest-freezer",
    "forked": "pytest-forked",
}

MIN_TYPO_LENGTH = 5
TWO_EDIT_LENGTH = 10


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def _without_numbers(name: str) -> str:
    return re.sub(r"\d+", "#", name)


def typo_distance(name: str, registered: str) -> int | None:
    """How far `name` is from `registered` if it looks like a typo of it, else None."""
    if name == registered:
        return None
    shorter = min(len(name), len(registered))
    if name.lower() == registered.lower():
        distance, limit = 0, 0
    elif shorter < MIN_TYPO_LENGTH:
        return None
    else:
        limit = 2 if shorter >= TWO_EDIT_LENGTH else 1
        if abs(len(name) - len(registered)) > limit:
            return None
        distance = edit_distance(name.lower(), registered.lower())
    if distance > limit or _without_numbers(name) == _without_numbers(registered):
        return None
    return distance


def likely_typo(name: str, registered: Iterable[str]) -> str | None:
    """The registered marker `name` most likely misspells, or None."""
    best: tuple[int, str] | None = None
    for candidate in registered:
        if abs(len(candidate) - len(name)) > 2:
            continue
        distance = typo_distance(name, candidate)
        if distance is not None and (best is None or (distance, candidate) < best):
            best = (distance, candidate)
    return best[1] if best else None
