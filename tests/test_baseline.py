"""`--baseline FILE`: record today's findings, then report only the ones that are not recorded.

The promises: a recorded finding stays known when code moves around it (lines
inserted above, re-indentation, CRLF), a genuinely new finding is reported
even when its line reads like a known one, the file is stable, sorted JSON
replaced atomically, and a missing or damaged baseline is one error line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, invoke, snapshot, write

FACTORY = "def load_settings():\n    return {}\n"
USE = (
    "from pkg.settings import load_settings\n"
    "\n"
    "\n"
    "async def first():\n"
    "    return await load_settings()\n"
    "\n"
    "\n"
    "async def second():\n"
    "    settings = await load_settings()\n"
    "    return settings\n"
)


def project_with_findings(project: Path) -> Path:
    return write(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": USE})


def scan_json(project: Path, *args: str):
    result = invoke("scan", *args, "--format", "json", cwd=project)
    assert result.exit_code in (0, 1), result.output
    return result, [(f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def record(project: Path, name: str = "baseline.json", *args: str) -> Path:
    result = invoke("scan", *args, "--baseline", name, "--write-baseline", cwd=project)
    assert result.exit_code == 0, result.output
    return project / name


def test_recorded_findings_are_hidden_and_the_exit_code_is_clean(project: Path) -> None:
    project_with_findings(project)
    record(project)
    result, found = scan_json(project, "--baseline", "baseline.json")
    assert found == [] and result.exit_code == 0
    assert "2 known findings not shown (in baseline.json)." in result.stderr


def test_findings_stay_known_when_code_moves_around_them(project: Path) -> None:
    project_with_findings(project)
    record(project)
    moved = USE.replace("from pkg.settings import load_settings\n", "from pkg.settings import load_settings\nimport os\n\nX = 1\n")
    moved = moved.replace("    settings = await load_settings()", "    settings  =  await load_settings()   ")
    (project / "pkg/use.py").write_bytes(moved.replace("\n", "\r\n").encode())  # and an editor made it CRLF
    _, found = scan_json(project)
    assert len(found) == 2  # the findings are there, on other lines
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert found == []


def test_a_new_finding_is_reported_even_beside_known_ones(project: Path) -> None:
    project_with_findings(project)
    record(project)
    (project / "pkg/use.py").write_text(USE + "\n\nasync def third():\n    return await load_settings(1)\n")
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert found == [("pkg/use.py", 14)]


def test_a_second_copy_of_a_known_line_is_one_new_finding(project: Path) -> None:
    project_with_findings(project)
    record(project)
    copy = "\n\nasync def third():\n    return await load_settings()\n"  # reads exactly like first()'s line
    (project / "pkg/use.py").write_text(USE + copy)
    _, all_found = scan_json(project)
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert len(all_found) == 3 and len(found) == 1
    assert found == [("pkg/use.py", 14)]  # counted in source order: the later one is the new one


def test_a_finding_in_a_renamed_file_is_new(project: Path) -> None:
    project_with_findings(project)
    record(project)
    (project / "pkg/use.py").rename(project / "pkg/renamed.py")
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert found == [("pkg/renamed.py", 5), ("pkg/renamed.py", 9)]


def test_an_edit_inside_a_long_finding_keeps_it_known(project: Path) -> None:
    call = "from pkg.settings import load_settings\n\n\nasync def first():\n    return await load_settings(\n        1,\n        2,\n    )\n"
    write(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": call})
    record(project)
    (project / "pkg/use.py").write_text(call.replace("        2,\n", "        2,\n        3,\n"))
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert found == []
    (project / "pkg/use.py").write_text(call.replace("return await", "x = await"))
    _, found = scan_json(project, "--baseline", "baseline.json")
    assert found == [("pkg/use.py", 5)]


def test_the_baseline_file_is_sorted_one_entry_a_line_and_stable(project: Path) -> None:
    project_with_findings(project)
    write(project, {"pkg/a_first.py": USE})
    path = record(project)
    text = path.read_text()
    document = json.loads(text)
    assert document["version"] == 1
    entries = document["findings"]
    assert entries == sorted(entries, key=lambda e: (e["path"], e["rule"], e["text"]))
    assert {"path": "pkg/use.py", "rule": "await-sync", "text": "settings = await load_settings()", "count": 1} in entries
    assert len(text.splitlines()) == len(entries) + 5  # header, one line per entry, footer
    assert text.endswith("]\n}\n")
    first = path.read_bytes()
    record(project)
    assert path.read_bytes() == first  # same findings, same bytes


def test_writing_replaces_the_file_in_one_rename(project: Path) -> None:
    project_with_findings(project)
    path = project / "baseline.json"
    path.write_text('{"version": 1, "findings": []}\n')
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    record(project)
    assert path.stat().st_ino != inode  # a new file renamed over the old one, not an in-place rewrite
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in project.iterdir() if "codefix-tmp" in p.name] == []


def test_an_empty_baseline_hides_nothing(project: Path) -> None:
    project_with_findings(project)
    (project / "baseline.json").write_text('{"version": 1, "findings": []}\n')
    result, found = scan_json(project, "--baseline", "baseline.json")
    assert found == [("pkg/use.py", 5), ("pkg/use.py", 9)] and result.exit_code == 1


@pytest.mark.parametrize(
    ("content", "mention"),
    [
        ("not json", "invalid JSON"),
        ("[]", '"version": 1'),
        ('{"version": 2, "findings": []}', '"version": 1'),
        ('{"version": 1}', '"findings" must be a list'),
        ('{"version": 1, "findings": [{"path": "a.py", "rule": "await-sync", "text": "x"}]}', "finding 1"),
        ('{"version": 1, "findings": [{"path": "a.py", "rule": "await-sync", "text": "x", "count": 0}]}', "finding 1"),
        ('{"version": 1, "findings": [{"path": 1, "rule": "await-sync", "text": "x", "count": 1}]}', "finding 1"),
        (b"\xff\xfe", "cannot read"),
    ],
)
def test_a_malformed_baseline_is_one_error_line(project: Path, content: str | bytes, mention: str) -> None:
    project_with_findings(project)
    write(project, {"baseline.json": content})
    result = invoke("scan", "--baseline", "baseline.json", cwd=project)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: baseline.json: "), result.stderr
    assert mention in lines[0]


def test_a_missing_baseline_or_a_bad_flag_combination_is_one_error_line(project: Path) -> None:
    project_with_findings(project)
    for args, mention in (
        (["--baseline", "nowhere.json"], "no such baseline file"),
        (["--write-baseline"], "needs --baseline"),
        (["--baseline", "b.json", "--write-baseline", "--since", "HEAD"], "no --since"),
    ):
        result = invoke("scan", *args, cwd=project)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("codefix: error: ") and mention in lines[0], result.stderr
    assert not (project / "b.json").exists()
    result = invoke("apply", "--rule", "await-sync", "--baseline", "nowhere.json", cwd=project)
    assert result.exit_code == 2 and (project / "pkg/use.py").read_text() == USE


def test_apply_with_a_baseline_fixes_only_files_with_new_findings(project: Path) -> None:
    project_with_findings(project)
    write(project, {"pkg/other.py": USE})
    record(project)
    (project / "pkg/use.py").write_text(USE + "\n\nasync def third():\n    return await load_settings(1)\n")
    before = snapshot(project)
    result = invoke("apply", "--rule", "await-sync", "--baseline", "baseline.json", "--patch", "fix.patch", cwd=project)
    assert result.exit_code == 0, result.output
    after = snapshot(project)
    assert after["pkg/other.py"] == before["pkg/other.py"]
    assert b"await" not in after["pkg/use.py"]
    git("apply", "-R", "fix.patch", cwd=project)  # works outside a repository too, like patch -p1
    assert snapshot(project)["pkg/use.py"] == before["pkg/use.py"]


def test_findings_in_configuration_files_are_recorded_by_their_line_too(project: Path) -> None:
    config = '[project]\nname = "example"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = [\n    "slow: long",\n    "slow: again",\n]\n'
    write(project, {"pyproject.toml": config, "tests/test_a.py": "import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    pass\n"})
    _, before = scan_json(project, "--rule", "pytest-markers")
    assert [f for f in before if f[0] == "pyproject.toml"], before
    record(project, "baseline.json", "--rule", "pytest-markers")
    (project / "pyproject.toml").write_text(config.replace("[project]", "# a comment\n[project]"))
    _, found = scan_json(project, "--rule", "pytest-markers", "--baseline", "baseline.json")
    assert found == []
