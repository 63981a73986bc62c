"""JUnit XML, the test-report format GitLab, Jenkins and GitHub test reporters display.

One `<testsuite>` per rule that ran (a CI page then reads like a checklist:
each rule passed or failed, however many files a monorepo has), with one
failing `<testcase>` per finding, named `path:line:col`, whose `<failure>`
carries the message. A rule without findings gets one passing testcase, so
its suite shows as passed rather than empty. Files that could not be
checked form a last suite, one `<error>` each. Elements and attributes are
those of the Surefire/Jenkins schema (junit-10.xsd), which every one of
those readers accepts; ElementTree does the escaping.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from codefix.formats._clean import xml_text
from codefix.rules import Rule
from codefix.types import FileError, Finding, RunResult

NOT_CHECKED_SUITE = "codefix.not-checked"


def _counts(element: ET.Element, tests: int, failures: int, errors: int) -> None:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", str(errors))


def finding_case(suite: ET.Element, finding: Finding) -> None:
    where = f"{finding.path}:{finding.line}:{finding.col}"
    case = ET.SubElement(suite, "testcase", name=xml_text(where), classname=f"codefix.{finding.rule}")
    failure = ET.SubElement(case, "failure", message=xml_text(finding.message), type=finding.rule)
    fixable = " [*] fixable with `codefix apply`" if finding.fixable else ""
    failure.text = xml_text(f"{where}: {finding.rule} {finding.message}{fixable}")


def error_case(suite: ET.Element, error: FileError) -> None:
    case = ET.SubElement(suite, "testcase", name=xml_text(error.path), classname=NOT_CHECKED_SUITE)
    element = ET.SubElement(case, "error", message=xml_text(error.message), type="not-checked")
    element.text = xml_text(f"{error.path}: {error.message}")


def rule_suite(parent: ET.Element, rule_id: str, findings: list[Finding]) -> None:
    suite = ET.SubElement(parent, "testsuite", name=f"codefix.{rule_id}")
    _counts(suite, max(len(findings), 1), len(findings), 0)
    for finding in findings:
        finding_case(suite, finding)
    if not findings:
        ET.SubElement(suite, "testcase", name="no findings", classname=f"codefix.{rule_id}")


def document(result: RunResult, rules: Sequence[type[Rule]]) -> ET.Element:
    root = ET.Element("testsuites", name="codefix")
    rule_ids = list(dict.fromkeys([rule.id for rule in rules] + [f.rule for f in result.findings]))
    for rule_id in rule_ids:
        rule_suite(root, rule_id, [f for f in result.findings if f.rule == rule_id])
    if result.errors:
        suite = ET.SubElement(root, "testsuite", name=NOT_CHECKED_SUITE)
        _counts(suite, len(result.errors), 0, len(result.errors))
        for error in result.errors:
            error_case(suite, error)
    suites = root.findall("testsuite")
    totals = [sum(int(suite.get(key, "0")) for suite in suites) for key in ("tests", "failures", "errors")]
    _counts(root, *totals)
    return root


def render(result: RunResult, rules: Sequence[type[Rule]]) -> str:
    root = document(result, rules)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
