"""`scan --statistics`: how many findings each rule has, in the shape of `ruff --statistics`.

One line per rule with findings, most frequent first: count, rule id, `[*]`
when `codefix apply` rewrites at least one of them (`[ ]` otherwise), and
the rule's summary. Columns are separated by tabs, so `cut -f` reads them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from codefix.reporting import JSON_VERSION
from codefix.rules import RULES_BY_ID
from codefix.types import Finding, RunResult


@dataclass(frozen=True)
class RuleCount:
    rule: str
    count: int
    #: How many of those findings `codefix apply` rewrites.
    fixable: int
    summary: str


def rule_counts(findings: Sequence[Finding]) -> list[RuleCount]:
    totals = Counter(f.rule for f in findings)
    fixable = Counter(f.rule for f in findings if f.fixable)
    counts = [
        RuleCount(rule, count, fixable[rule], RULES_BY_ID[rule].summary if rule in RULES_BY_ID else "")
        for rule, count in totals.items()
    ]
    return sorted(counts, key=lambda c: (-c.count, c.rule))


def render_text(findings: Sequence[Finding]) -> str:
    counts = rule_counts(findings)
    if not counts:
        return ""
    count_width = max(len(str(c.count)) for c in counts)
    rule_width = max(len(c.rule) for c in counts)
    lines = [
        f"{c.count:>{count_width}}\t{c.rule:<{rule_width}}\t{'[*]' if c.fixable else '[ ]'} {c.summary}"
        for c in counts
    ]
    return "\n".join(lines) + "\n"


def render_json(result: RunResult) -> str:
    """`{"version": 1, "statistics": [{"rule", "count", "fixable", "summary"}], "errors": [...]}`."""
    document = {
        "version": JSON_VERSION,
        "statistics": [
            {"rule": c.rule, "count": c.count, "fixable": c.fixable, "summary": c.summary}
            for c in rule_counts(result.findings)
        ],
        "errors": [{"path": e.path, "message": e.message} for e in result.errors],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
