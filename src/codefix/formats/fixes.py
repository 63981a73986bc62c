"""`--show-fixes`: which findings were (or would be) rewritten, per file and rule, as ruff lists them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from codefix.reporting import plural
from codefix.types import Finding


def render(findings: Sequence[Finding], heading: str) -> str:
    """`heading` and N findings, then `- path:` and `    count × rule` lines; one line when there are none."""
    if not findings:
        return f"{heading} no findings.\n"
    lines = [f"{heading} {plural(len(findings), 'finding')}:"]
    by_file: dict[str, Counter[str]] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        by_file.setdefault(finding.path, Counter())[finding.rule] += 1
    for path, rules in by_file.items():
        lines.append(f"- {path}:")
        lines.extend(f"    {count} × {rule}" for rule, count in sorted(rules.items()))
    return "\n".join(lines) + "\n"
