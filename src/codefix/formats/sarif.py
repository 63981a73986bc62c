"""SARIF 2.1.0, the format GitHub code scanning and most security dashboards import.

One run. `tool.driver.rules` describes every rule that ran (summary, the
"What it does" section, and the rule's whole `codefix explain` text as
help), so a dashboard can explain a result without codefix installed.
Results point at the project root through the `%SRCROOT%` base id, whose
absolute location is given in `originalUriBaseIds`. Regions use codefix's
own positions unchanged: lines and columns are 1-based, columns count
characters (`columnKind: unicodeCodePoints`) and `endColumn` is just past
the end, as SARIF defines it. Files that could not be checked are
`toolExecutionNotifications` of the invocation, not results: they are not
findings about the code.

Fixes are not embedded: codefix computes them only for `apply`, as whole-file
rewrites; each result says in `properties.fixable` whether `codefix apply`
rewrites it.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path, PurePosixPath

from codefix import __version__
from codefix.formats._clean import readable
from codefix.rules import RULES_BY_ID, Rule
from codefix.types import FileError, Finding, RunResult

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def information_uri() -> str | None:
    """The project's home page as packaging metadata declares it; None when it declares none."""
    try:
        meta = metadata.metadata("codefix")
    except metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source") and url.strip():
            return url.strip()
    home = meta.get("Home-page")
    return home.strip() if home and home.strip() not in ("", "UNKNOWN") else None


def section(documentation: str, heading: str) -> str:
    """The text under `## heading` of a rule's documentation ('' when absent)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", documentation, flags=re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def rule_descriptor(rule: type[Rule]) -> dict[str, object]:
    documentation = rule.documentation()
    return {
        "id": rule.id,
        "name": rule.__name__,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": section(documentation, "What it does") or rule.summary},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": "error"},
    }


def artifact_location(path: str) -> dict[str, str]:
    """A project-relative path as a relative URI under %SRCROOT%; a path outside the project as a file URI."""
    quoted = urllib.parse.quote(os.fsencode(path))  # fsencode: undecodable name bytes come back as they were
    if PurePosixPath(path).is_absolute():
        return {"uri": "file://" + quoted}
    return {"uri": quoted, "uriBaseId": SRCROOT}


def directory_uri(path: Path) -> str:
    uri = path.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def result_entry(finding: Finding, rule_index: dict[str, int]) -> dict[str, object]:
    entry: dict[str, object] = {
        "ruleId": finding.rule,
        "level": "error",
        "message": {"text": readable(finding.message)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.col,
                        "endLine": finding.end_line,
                        "endColumn": finding.end_col,
                    },
                }
            }
        ],
        "properties": {"fixable": finding.fixable},
    }
    if finding.rule in rule_index:
        entry["ruleIndex"] = rule_index[finding.rule]
    return entry


def notification(error: FileError) -> dict[str, object]:
    return {
        "level": "warning",
        "message": {"text": readable(f"{error.path}: {error.message}")},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(error.path)}}],
    }


def document(run_result: RunResult, rules: Sequence[type[Rule]]) -> dict[str, object]:
    ran = list(dict.fromkeys(rules))
    ran += [RULES_BY_ID[f.rule] for f in run_result.findings if f.rule in RULES_BY_ID and RULES_BY_ID[f.rule] not in ran]
    rule_index = {rule.id: index for index, rule in enumerate(dict.fromkeys(ran))}
    driver: dict[str, object] = {
        "name": "codefix",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [rule_descriptor(rule) for rule in dict.fromkeys(ran)],
    }
    home = information_uri()
    if home:
        driver["informationUri"] = home
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [notification(e) for e in run_result.errors],
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": directory_uri(run_result.root)}},
                "columnKind": "unicodeCodePoints",
                "results": [result_entry(f, rule_index) for f in run_result.findings],
            }
        ],
    }


def render(run_result: RunResult, rules: Sequence[type[Rule]]) -> str:
    return json.dumps(document(run_result, rules), indent=2, ensure_ascii=False) + "\n"
