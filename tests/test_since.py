"""`--since REV`: only findings on lines changed since a git revision, on real temporary git repositories.

The oracle for "changed" is git itself: each test makes commits and edits
with the real `git` and checks that codefix reports exactly the findings on
the lines those edits touched, while still resolving names across the whole
project.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import git, invoke, snapshot, write

from codefix.changed_lines import changed_lines, parse_diff

FACTORY = "def load_settings():\n    return {}\n"
ONE_AWAIT = "from pkg.settings import load_settings\n\n\nasync def first():\n    return await load_settings()\n"
ADDED_AWAIT = ONE_AWAIT + "\n\nasync def second():\n    value = await load_settings()\n    return value\n"


def repository(root: Path, files: dict[str, str | bytes]) -> Path:
    """A git repository at root holding `files` (and the project's pyproject.toml) in one commit."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    git("config", "user.email", "tests@codefix.invalid", cwd=root)
    git("config", "user.name", "codefix tests", cwd=root)
    write(root, files)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "start", cwd=root)
    return root


def findings(*args: str, cwd: Path) -> list[tuple[str, int, str]]:
    result = invoke("scan", *args, "--format", "json", cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(result.stdout)["findings"]]


def assert_one_line_error(result, *mentions: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: "), result.stderr
    for mention in mentions:
        assert mention in lines[0]
    assert "Traceback" not in result.output


def test_only_the_line_changed_since_the_revision_is_reported(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": ONE_AWAIT})
    (project / "pkg/use.py").write_text(ADDED_AWAIT)
    assert findings(cwd=project) == [("pkg/use.py", 5, "await-sync"), ("pkg/use.py", 9, "await-sync")]
    # The definition lives in a file that did not change: resolution still sees it.
    assert findings("--since", "HEAD", cwd=project) == [("pkg/use.py", 9, "await-sync")]


def test_staged_and_unstaged_edits_both_count_and_a_clean_tree_reports_nothing(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/a.py": ONE_AWAIT, "pkg/b.py": ONE_AWAIT})
    assert findings("--since", "HEAD", cwd=project) == []
    (project / "pkg/a.py").write_text(ONE_AWAIT.replace("return await", "return  await"))
    git("add", "pkg/a.py", cwd=project)
    (project / "pkg/b.py").write_text(ONE_AWAIT.replace("await load_settings()", "await load_settings( )"))
    assert findings("--since", "HEAD", cwd=project) == [("pkg/a.py", 5, "await-sync"), ("pkg/b.py", 5, "await-sync")]


def test_an_older_revision_includes_the_commits_since(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": ONE_AWAIT})
    (project / "pkg/use.py").write_text(ADDED_AWAIT)
    git("commit", "-q", "-am", "second", cwd=project)
    assert findings("--since", "HEAD", cwd=project) == []
    assert findings("--since", "HEAD~1", cwd=project) == [("pkg/use.py", 9, "await-sync")]


def test_untracked_files_are_all_new_and_the_users_index_is_untouched(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": ONE_AWAIT})
    write(project, {"pkg/fresh.py": ONE_AWAIT})
    status_before = git("status", "--porcelain", cwd=project).stdout
    index_before = (project / ".git/index").read_bytes()
    assert findings("--since", "HEAD", cwd=project) == [("pkg/fresh.py", 5, "await-sync")]
    assert git("status", "--porcelain", cwd=project).stdout == status_before
    assert (project / ".git/index").read_bytes() == index_before


def test_a_moved_file_keeps_its_old_findings_old_whether_moved_by_git_or_not(project: Path) -> None:
    body = ONE_AWAIT + "\n\n# enough unchanged lines for rename detection to pair the files\nX = 1\nY = 2\nZ = 3\n"
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/old.py": body, "pkg/other.py": body})
    git("mv", "pkg/old.py", "pkg/renamed.py", cwd=project)
    (project / "pkg/other.py").rename(project / "pkg/moved.py")  # a plain mv: untracked at its new name
    edited = (project / "pkg/moved.py").read_text() + "\n\nasync def extra():\n    await load_settings()\n"
    (project / "pkg/moved.py").write_text(edited)
    assert findings(cwd=project) == [
        ("pkg/moved.py", 5, "await-sync"),
        ("pkg/moved.py", 15, "await-sync"),
        ("pkg/renamed.py", 5, "await-sync"),
    ]
    assert findings("--since", "HEAD", cwd=project) == [("pkg/moved.py", 15, "await-sync")]


def test_deleted_files_and_pure_deletions_mark_nothing(project: Path) -> None:
    two = ONE_AWAIT + "\n\nUNUSED = 1\n"
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": two, "pkg/gone.py": ONE_AWAIT})
    (project / "pkg/gone.py").unlink()
    (project / "pkg/use.py").write_text(ONE_AWAIT)  # only lines removed
    assert findings(cwd=project) == [("pkg/use.py", 5, "await-sync")]
    assert findings("--since", "HEAD", cwd=project) == []


@pytest.mark.parametrize("name", ["pkg/with space/é ü.py", "pkg/tab\there.py", 'pkg/quote"d\\.py'])
def test_file_names_git_quotes_or_spaces_are_read_back_exactly(project: Path, name: str) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, name: ONE_AWAIT})
    (project / name).write_text(ADDED_AWAIT)
    assert findings("--since", "HEAD", cwd=project) == [(name, 9, "await-sync")]


def test_a_multi_line_finding_is_new_when_any_of_its_lines_changed(project: Path) -> None:
    call = "from pkg.settings import load_settings\n\n\nasync def first():\n    return await load_settings(\n        # why\n    )\n"
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": call})
    assert findings("--since", "HEAD", cwd=project) == []
    (project / "pkg/use.py").write_text(call.replace("# why", "# why not"))
    assert findings("--since", "HEAD", cwd=project) == [("pkg/use.py", 5, "await-sync")]


def test_a_project_in_a_subfolder_of_the_repository_gets_its_own_relative_paths(tmp_path: Path) -> None:
    top = repository(tmp_path / "repo", {
        "svc/pyproject.toml": '[project]\nname = "svc"\nversion = "0"\n',
        "svc/pkg/__init__.py": "",
        "svc/pkg/settings.py": FACTORY,
        "svc/pkg/use.py": ONE_AWAIT,
        "elsewhere/use.py": ONE_AWAIT,
    })
    (top / "svc/pkg/use.py").write_text(ADDED_AWAIT)
    (top / "elsewhere/use.py").write_text(ADDED_AWAIT)
    assert findings("--since", "HEAD", cwd=top / "svc") == [("pkg/use.py", 9, "await-sync")]
    assert changed_lines(top / "svc", "HEAD").lines == {"pkg/use.py": frozenset({6, 7, 8, 9, 10})}


def test_pytest_markers_findings_follow_the_changed_lines_of_tests_and_configuration(project: Path) -> None:
    config = '[project]\nname = "example"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = [\n    "slow: long",\n]\n'
    tests = "import pytest\n\n\n@pytest.mark.legacy\ndef test_old():\n    pass\n"
    repository(project, {"pyproject.toml": config, "tests/test_a.py": tests})
    assert findings("--rule", "pytest-markers", cwd=project) == [("tests/test_a.py", 4, "pytest-markers")]
    assert findings("--rule", "pytest-markers", "--since", "HEAD", cwd=project) == []
    (project / "tests/test_a.py").write_text(tests + "\n\n@pytest.mark.brand_new\ndef test_new():\n    pass\n")
    (project / "pyproject.toml").write_text(config.replace('    "slow: long",\n', '    "slow: long",\n    "slow: again",\n'))
    new = findings("--rule", "pytest-markers", "--since", "HEAD", cwd=project)
    assert ("tests/test_a.py", 9, "pytest-markers") in new
    assert ("tests/test_a.py", 4, "pytest-markers") not in new
    assert [f for f in new if f[0] == "pyproject.toml"], new  # the duplicated entry sits on a changed line


def test_apply_since_writes_only_files_with_new_findings(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/old.py": ONE_AWAIT, "pkg/use.py": ONE_AWAIT})
    (project / "pkg/use.py").write_text(ADDED_AWAIT)
    before = snapshot(project)
    result = invoke("apply", "--rule", "await-sync", "--since", "HEAD", "--patch", project / "fix.patch", cwd=project)
    assert result.exit_code == 0, result.output
    after = snapshot(project)
    assert after["pkg/old.py"] == before["pkg/old.py"]  # its only finding is old: not written
    # The file with a new finding is fixed as a whole (both awaits), so the fix stays complete.
    assert after["pkg/use.py"] == ADDED_AWAIT.replace("await ", "").encode()
    patch = (project / "fix.patch").read_text()
    assert "pkg/use.py" in patch and "pkg/old.py" not in patch
    git("apply", "-R", "fix.patch", cwd=project)  # the patch is honest: git undoes it exactly
    assert snapshot(project) | {"fix.patch": b""} == before | {"fix.patch": b""}


def test_apply_since_reports_old_findings_left_in_unwritten_files_as_hidden(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/old.py": ONE_AWAIT})
    result = invoke("apply", "--rule", "await-sync", "--since", "HEAD", "--dry-run", cwd=project)
    assert result.exit_code == 0
    assert "1 known finding not shown (unchanged since HEAD)." in result.stderr
    assert "diff --git" not in result.stdout


def test_an_unknown_revision_is_one_error_line(project: Path) -> None:
    repository(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY})
    assert_one_line_error(invoke("scan", "--since", "no-such-branch", cwd=project), "no-such-branch", "unknown git revision")
    assert_one_line_error(invoke("scan", "--since=--output=x", cwd=project), "not a git revision")
    assert not (project / "x").exists()


def test_outside_a_git_repository_is_one_error_line(project: Path) -> None:
    write(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/use.py": ONE_AWAIT})
    assert_one_line_error(invoke("scan", "--since", "HEAD", cwd=project), "needs a git repository")
    assert_one_line_error(invoke("apply", "--rule", "await-sync", "--since", "HEAD", cwd=project), "git repository")
    assert (project / "pkg/use.py").read_text() == ONE_AWAIT


def test_the_hunk_header_parser_reads_git_output_as_git_writes_it() -> None:
    diff = (
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -2 +2 @@\n-a\n+b\n@@ -5,0 +6,2 @@\n+c\n+++ d\n"
        b"@@ -9,3 +10,0 @@\n-e\n-f\n-g\n"
        b"diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        b'diff --git "a/t\\tb.py" "b/t\\tb.py"\n--- "a/t\\tb.py"\n+++ "b/t\\tb.py"\n@@ -1 +1 @@\n-q\n+r\n'
        b"diff --git a/s p.py b/s p.py\n--- a/s p.py\t\n+++ b/s p.py\t\n@@ -0,0 +1 @@\n+z\n"
    )
    assert parse_diff(diff) == {"x.py": frozenset({2, 6, 7}), "t\tb.py": frozenset({1}), "s p.py": frozenset({1})}


def test_apply_since_registers_markers_only_when_a_new_test_line_needs_one(project: Path) -> None:
    config = '[project]\nname = "example"\nversion = "0"\n\n[tool.pytest.ini_options]\nmarkers = [\n    "slow: long",\n]\n'
    tests = "import pytest\n\n\n@pytest.mark.legacy\ndef test_old():\n    pass\n"
    repository(project, {"pyproject.toml": config, "tests/test_a.py": tests})
    result = invoke("apply", "--rule", "pytest-markers", "--since", "HEAD", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "pyproject.toml").read_text() == config  # only an old marker is missing: nothing written
    (project / "tests/test_a.py").write_text(tests + "\n\n@pytest.mark.brand_new\ndef test_new():\n    pass\n")
    result = invoke("apply", "--rule", "pytest-markers", "--since", "HEAD", cwd=project)
    assert result.exit_code == 0, result.output
    markers = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    # The file is rewritten as a whole, so the old marker is registered with the new one.
    assert [m.split(":")[0] for m in markers] == ["slow", "brand_new", "legacy"]
