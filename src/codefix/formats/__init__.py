"""Reports for people and for CI systems: one module per format, one `render` to pick among them.

Every renderer takes the same `RunResult` and the rules that ran, and
returns the whole report as text, so the CLI can send it to stdout or to
`--output-file` alike. Formats that CI systems parse (github, sarif, junit)
never carry colour or summary lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codefix.formats import github, junit, sarif, text
from codefix.reporting import findings_as_json
from codefix.rules import Rule
from codefix.types import RunResult

Renderer = Callable[[RunResult, Sequence[type[Rule]]], str]

RENDERERS: dict[str, Renderer] = {
    "text": lambda result, rules: text.render(result),
    "json": lambda result, rules: findings_as_json(result),
    "github": lambda result, rules: github.render(result),
    "sarif": sarif.render,
    "junit": junit.render,
}

#: Format names, in the order `--help` lists them.
FORMATS = tuple(RENDERERS)


def render(result: RunResult, fmt: str, rules: Sequence[type[Rule]]) -> str:
    """The report of `result` in format `fmt` (one of FORMATS)."""
    return RENDERERS[fmt](result, rules)


__all__ = ["FORMATS", "render"]
