"""Every rule's own valid/invalid examples, run through the real engine.

Each example is a one-module project. Fix cases also check what every fix
must satisfy: the output parses, applying again changes nothing, and no
fixable finding remains.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codefix.engine import RunOptions, run
from codefix.rules import ALL_RULES

CASES = [
    pytest.param(rule, example, id=f"{rule.id}-{number}")
    for rule in ALL_RULES
    for number, example in enumerate(rule.examples)
]


def _run(root: Path, rule_id: str, fix: bool):
    return run(RunOptions(paths=(root,), rules=(rule_id,), fix=fix))


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_example(rule, example, tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    module = tmp_path / "example.py"
    module.write_text(example.code)
    scanned = _run(tmp_path, rule.id, fix=False)
    assert not scanned.errors, scanned.errors
    assert len(scanned.findings) == example.findings, [f.message for f in scanned.findings]
    assert all(f.rule == rule.id for f in scanned.findings)
    fixed = _run(tmp_path, rule.id, fix=True)
    after = fixed.changes[0].after.decode() if fixed.changes else example.code
    assert after == (example.fixed if example.fixed is not None else example.code)
    if example.fixed is not None:
        ast.parse(after)
        module.write_text(after)
        again = _run(tmp_path, rule.id, fix=True)
        assert not again.changes, "applying twice must change nothing"
        assert not any(f.fixable for f in again.findings)


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.examples], ids=lambda r: r.id)
def test_rule_has_valid_and_invalid_examples(rule):
    assert any(example.findings == 0 for example in rule.examples), "no valid example"
    assert any(example.findings > 0 for example in rule.examples), "no invalid example"
