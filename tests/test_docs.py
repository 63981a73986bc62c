"""The documentation is generated from, and checked against, the rules themselves."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codefix.docs import with_generated_rules
from codefix.rules import ALL_RULES

from conftest import run_codefix

REPO = Path(__file__).resolve().parent.parent
HEADINGS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.id)
def test_every_rule_documents_itself_under_the_five_headings(rule):
    documentation = rule.documentation()
    positions = [documentation.find(heading) for heading in HEADINGS]
    assert all(position >= 0 for position in positions), (rule.id, positions)
    assert positions == sorted(positions), f"{rule.id}: headings out of order"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.id)
def test_explain_prints_the_rule_documentation(rule, tmp_path):
    result = run_codefix("explain", rule.id, cwd=tmp_path)
    assert result.code == 0, result.stderr
    for heading in HEADINGS:
        assert heading in result.stdout


def test_readme_rule_reference_is_generated_from_the_docstrings():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_generated_rules(readme) == readme, "run `python -m codefix.docs README.md`"


def _readme_command(prefix: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.DOTALL)
    matching = [c for c in commands if c.startswith(prefix)]
    assert matching, f"the README has no command starting with {prefix!r}"
    return matching[0]


@pytest.mark.slow
def test_readme_quick_start_command_works_in_a_fresh_virtual_environment(tmp_path):
    """The quick start, run as written, in a copy of the repository."""
    command = _readme_command("python3 -m venv .venv && .venv/bin/pip install . ")
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPO,
        checkout,
        ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".codefix", ".pytest_cache"),
    )
    result = subprocess.run(
        command.replace("python3", sys.executable, 1), shell=True, cwd=checkout, capture_output=True, text=True,
        timeout=900,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # findings: exit 1
    assert "await-websocket" in result.stdout
    assert re.search(r"Found \d+ findings in \d+ files", result.stdout)
