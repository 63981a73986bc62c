"""Fixture suite of `pytest-markers`: real pytest is the oracle.

Each project under tests/fixtures/pytest_markers/ has one configuration style
(pytest.ini, `[tool.pytest.ini_options]`, native `[tool.pytest]`,
pytest.toml, tox.ini, setup.cfg, none at all, several files where
precedence decides, conftest-registered markers, a pin below pytest 9).
Every fixture goes through the same battery, on a private copy:
`pytest --strict-markers --collect-only` fails before `codefix apply` and
passes after; the configuration file keeps every byte outside its marker
list; the new entries are the expected ones, sorted, after the old ones; a
second apply changes nothing; `--dry-run` prints the same diff the patch
holds and writes nothing; `git apply -R` and `codefix revert` undo the patch.

The marker lists are read back here with pytest's own readers (`tomllib`,
`iniconfig`), not with codefix's, so the two cannot agree by sharing a bug.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import iniconfig
import pytest
import tomlkit
from conftest import FIXTURES, assert_parses, copy_tree, git, invoke, snapshot


CASES_DIR = FIXTURES / "pytest_markers"
RULE = ("--rule", "pytest-markers")
TODO = "TODO: describe"




def scan(root: Path, *extra: str) -> dict:
    result = invoke("scan", *RULE, "--format", "json", *extra, root, cwd=root)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def collect(root: Path, tree: str) -> subprocess.CompletedProcess[str]:
    """The oracle: real pytest, strict about markers, collecting one test tree.

    Plugins installed in the test environment are not loaded: the fixtures
    must pass or fail on their own configuration, not on what else happens
    to be installed next to codefix.
    """
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    environment.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--strict-markers", "--collect-only", "-q", "-p", "no:cacheprovider", tree],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


# --- Reading marker lists back, independently of codefix ----------------------------


@dataclass(frozen=True)
class Edit:
    """One configuration file the fixture expects `apply` to change."""

    path: str
    #: TOML table path, or the one ini section.
    table: tuple[str, ...]
    #: Marker names appended, in the expected (sorted) order.
    added: tuple[str, ...]
    #: Text that appears outside the marker list because the table was created.
    created: str = ""

    @property
    def is_toml(self) -> bool:
        return self.path.endswith(".toml")


def markers_of(data: bytes, edit: Edit) -> list[str]:
    """The marker lines pytest reads from `edit`'s table, through tomllib or iniconfig."""
    text = data.decode("utf-8")
    if edit.is_toml:
        node = tomllib.loads(text)
        for part in edit.table:
            node = node.get(part, {})
        value = node.get("markers", [])
        return [line.strip() for line in value.split("\n") if line.strip()] if isinstance(value, str) else value
    ini = iniconfig.IniConfig("config.ini", data=text)
    if edit.table[0] not in ini:
        return []
    raw = ini[edit.table[0]].get("markers", "")
    return [line.strip() for line in raw.split("\n") if line.strip()]


def _table_start(text: str, table: tuple[str, ...]) -> int | None:
    pattern = r"^\[" + r"\.".join(re.escape(part) for part in table) + r"\]"
    match = re.search(pattern, text, re.MULTILINE)
    return match.end() if match else None


def _toml_value_end(text: str, start: int) -> int:
    """Index just past a TOML value starting at `start` (array or string), then past its line."""
    if text.startswith(('"""', "'''"), start):
        close = text.index(text[start : start + 3], start + 3) + 3
    elif text[start] == "[":
        depth, position, quote = 0, start, None
        while True:
            char = text[position]
            if quote:
                if char == "\\" and quote == '"':
                    position += 1
                elif char == quote:
                    quote = None
            elif char in "\"'":
                quote = char
            elif char == "#":
                position = text.index("\n", position) - 1
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    break
            position += 1
        close = position + 1
    else:
        close = start
    newline = text.find("\n", close)
    return len(text) if newline < 0 else newline + 1


def without_markers(data: bytes, edit: Edit) -> bytes:
    """The file with its `markers` entry (key, value, continuation lines) cut out."""
    text = data.decode("utf-8")
    begin = _table_start(text, edit.table)
    if begin is None:
        return data
    key = re.compile(r"^markers[ \t]*=[ \t]*", re.MULTILINE).search(text, begin)
    if key is None:
        return data
    if edit.is_toml:
        end = _toml_value_end(text, key.end())
    else:
        end = text.find("\n", key.start()) + 1
        for match in re.finditer(r"^.*(?:\n|$)", text[end:], re.MULTILINE):
            line = match.group()
            if not line or not line[:1].isspace() or not line.strip():
                break
            end += len(line)
    return (text[: key.start()] + text[end:]).encode("utf-8")


# --- The fixtures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    edits: tuple[Edit, ...]
    #: Test trees, each collected by pytest on its own (it finds its own configuration).
    trees: tuple[str, ...] = ("tests",)
    #: Extra `apply` switches the oracle run needs (`--fix-typos` for fixtures with a typo).
    flags: tuple[str, ...] = ()
    #: Likely typos `scan` reports: used name -> registered marker.
    typos: dict[str, str] = field(default_factory=dict)
    #: Findings on configuration files: (path, line, words of the message).
    problems: tuple[tuple[str, int, str], ...] = ()
    #: pytest 8 ignores [tool.pytest]: emulate it by deleting that table before collecting.
    as_pytest_8: bool = False

    @property
    def folder(self) -> Path:
        return CASES_DIR / self.name

    @property
    def unregistered(self) -> set[str]:
        return {name for edit in self.edits for name in edit.added}


INI_OPTIONS = ("tool", "pytest", "ini_options")
CASES = [
    Case(
        "pytest_ini",
        (Edit("pytest.ini", ("pytest",), ("nightly", "payments", "scalability")),),
        problems=(("pytest.ini", 10, "'slow' is listed twice"),),
    ),
    Case(
        "ini_options",
        (Edit("pyproject.toml", INI_OPTIONS, ("contract", "flaky_network", "issue_1174", "pricing", "search")),),
        flags=("--fix-typos",),
        typos={"intergration": "integration"},
    ),
    Case("native_table", (Edit("pyproject.toml", ("tool", "pytest"), ("month_end", "reconciliation")),)),
    Case("pytest_toml", (Edit("pytest.toml", ("pytest",), ("conflict_resolution", "offline_first")),)),
    Case("tox_ini", (Edit("tox.ini", ("pytest",), ("canary", "migration", "rollback")),)),
    Case("setup_cfg", (Edit("setup.cfg", ("tool:pytest",), ("email", "sms")),)),
    Case("no_config", (Edit("pyproject.toml", INI_OPTIONS, ("e2e", "slow"), created="\n[tool.pytest.ini_options]\n"),)),
    Case(
        "precedence",
        (
            Edit("pytest.ini", ("pytest",), ("legacy",)),
            Edit("services/billing/tox.ini", ("pytest",), ("refunds",)),
        ),
        trees=("tests", "services/billing/tests"),
        problems=(("pyproject.toml", 8, "ignored: pytest reads pytest.ini"),),
    ),
    Case("conftest_registered", (Edit("pyproject.toml", INI_OPTIONS, ("contract",)),)),
    Case(
        "pinned_pytest8",
        (Edit("pyproject.toml", INI_OPTIONS, ("pdf", "slow"), created="\n[tool.pytest.ini_options]\n"),),
        problems=(("pyproject.toml", 8, "pins pytest below 9 (pytest==8.3.5)"),),
        as_pytest_8=True,
    ),
]


def as_pytest_8_reads_it(root: Path) -> None:
    """Drop what pytest 8 ignores: every `[tool.pytest]` key except ini_options."""
    path = root / "pyproject.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = document["tool"]["pytest"]
    for key in [k for k in table if k != "ini_options"]:
        del table[key]
    path.write_text(document.as_string(), encoding="utf-8")


@dataclass
class Applied:
    case: Case
    root: Path
    before: dict[str, bytes]
    scanned: dict
    exit_code: int
    output: str
    patch: Path


_APPLIED: dict[str, Applied] = {}


def applied_case(case: Case, factory: pytest.TempPathFactory) -> Applied:
    """Each fixture copied into a git repository and applied once per session."""
    if case.name not in _APPLIED:
        root = copy_tree(case.folder, factory.mktemp(case.name) / "project")
        git("-c", "core.autocrlf=false", "init", "-q", ".", cwd=root)
        git("-c", "core.autocrlf=false", "add", "-A", "-f", ".", cwd=root)
        git("-c", "core.autocrlf=false", "commit", "-q", "-m", "before", cwd=root)
        before = snapshot(root)
        scanned = scan(root)
        result = invoke("apply", *RULE, *case.flags, root, cwd=root)
        patches = sorted((root / ".codefix" / "patches").glob("*.patch"))
        assert len(patches) == 1, result.output
        _APPLIED[case.name] = Applied(case, root, before, scanned, result.exit_code, result.output, patches[0])
    return _APPLIED[case.name]


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def applied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Applied:
    return applied_case(request.param, tmp_path_factory)


def pytest_view(applied: Applied, destination: Path, tree: str = "after") -> Path:
    """A copy of the fixture before or after apply, as the pytest under test would see it."""
    if tree == "before":
        copy_tree(applied.case.folder, destination)
    else:
        shutil.copytree(applied.root, destination, ignore=shutil.ignore_patterns(".git", ".codefix"))
    if applied.case.as_pytest_8:
        as_pytest_8_reads_it(destination)
    return destination


# --- The battery ---------------------------------------------------------------------------


@pytest.mark.slow
def test_pytest_fails_before_apply_and_passes_after(applied, tmp_path):
    before = pytest_view(applied, tmp_path / "before", "before")
    after = pytest_view(applied, tmp_path / "after")
    for tree in applied.case.trees:
        failed = collect(before, tree)
        assert failed.returncode != 0, failed.stdout
        assert "not found in `markers` configuration option" in failed.stdout + failed.stderr
        passed = collect(after, tree)
        assert passed.returncode == 0, passed.stdout + passed.stderr


def test_scan_reports_each_unregistered_use_typos_and_config_problems(applied):
    findings = applied.scanned["findings"]
    assert all(f["rule"] == "pytest-markers" for f in findings)
    unregistered = [f for f in findings if "is not registered in" in f["message"]]
    names = {re.search(r"marker '([^']+)'", f["message"]).group(1) for f in unregistered}
    assert names == applied.case.unregistered
    assert all(f["fixable"] for f in unregistered)
    typos = {
        re.search(r"marker '([^']+)'", f["message"]).group(1): re.search(r"typo of '([^']+)'", f["message"]).group(1)
        for f in findings
        if "typo of" in f["message"]
    }
    assert typos == applied.case.typos
    on_config = [(f["path"], f["line"], f["message"]) for f in findings if not f["path"].endswith(".py")]
    assert len(on_config) == len(applied.case.problems), on_config
    for (path, line, words), (found_path, found_line, message) in zip(applied.case.problems, sorted(on_config), strict=True):
        assert (found_path, found_line) == (path, line) and words in message, message


def test_every_use_site_is_reported_once(applied):
    """One finding per (file, line, column): no site twice, none merged."""
    sites = [(f["path"], f["line"], f["col"]) for f in applied.scanned["findings"]]
    assert len(sites) == len(set(sites))
    for finding in applied.scanned["findings"]:
        if finding["path"].endswith(".py"):
            source = (applied.case.folder / finding["path"]).read_text(encoding="utf-8").splitlines()
            name = re.search(r"marker '([^']+)'", finding["message"]).group(1)
            assert name in source[finding["line"] - 1][finding["col"] - 1 :], finding


def test_new_markers_are_appended_sorted_with_a_placeholder(applied):
    after = snapshot(applied.root)
    for edit in applied.case.edits:
        old = markers_of(applied.before[edit.path], edit)
        new = markers_of(after[edit.path], edit)
        assert new == old + [f"{name}: {TODO}" for name in edit.added]


def test_bytes_outside_the_marker_list_are_unchanged(applied):
    after = snapshot(applied.root)
    for edit in applied.case.edits:
        expected = without_markers(applied.before[edit.path], edit) + edit.created.encode()
        assert without_markers(after[edit.path], edit) == expected


def test_only_the_expected_files_change(applied):
    after = snapshot(applied.root)
    changed = sorted(path for path, data in applied.before.items() if after.get(path) != data)
    renamed = {"tests/test_search.py"} if applied.case.typos and "--fix-typos" in applied.case.flags else set()
    assert changed == sorted({edit.path for edit in applied.case.edits} | renamed)
    assert set(after) == set(applied.before)
    for path in renamed:
        assert_parses(applied.root / path)


def test_apply_reports_what_it_fixed_and_leaves_nothing(applied):
    # Exit 1 exactly when unfixable findings (configuration problems) remain.
    assert applied.exit_code == (1 if applied.case.problems else 0), applied.output
    fixed = sum(len(edit.added) for edit in applied.case.edits)
    uses = [f for f in applied.scanned["findings"] if f["fixable"] or "typo of" in f["message"]]
    assert f"Fixed {len(uses)} finding" in applied.output and fixed <= len(uses)
    remaining = scan(applied.root)["findings"]
    assert [f for f in remaining if f["fixable"] or "not registered" in f["message"]] == []
    assert len(remaining) == len(applied.case.problems)


def test_second_apply_changes_nothing(applied, tmp_path):
    root = shutil.copytree(applied.root, tmp_path / "again")
    before = snapshot(root)
    result = invoke("apply", *RULE, *applied.case.flags, root, cwd=root)
    assert "Fixed 0 findings in 0 files." in result.output
    assert snapshot(root) == before


def test_dry_run_prints_the_patch_diff_and_writes_nothing(applied, tmp_path):
    root = copy_tree(applied.case.folder, tmp_path / "dry")
    before = snapshot(root)
    result = invoke("apply", *RULE, *applied.case.flags, "--dry-run", root, cwd=root)
    assert snapshot(root) == before
    patch_text = applied.patch.read_text(encoding="utf-8")
    body = patch_text[patch_text.index("diff --git") :]
    assert result.stdout.replace("\r\n", "\n") == body.replace("\r\n", "\n")
    for edit in applied.case.edits:
        assert f"+++ b/{edit.path}" in result.stdout


def test_patch_is_undone_by_git_apply_and_codefix_revert(applied, tmp_path):
    by_git = shutil.copytree(applied.root, tmp_path / "git", symlinks=True)
    subprocess.run(["git", "apply", "-R", str(applied.patch)], cwd=by_git, check=True, capture_output=True)
    assert {k: v for k, v in snapshot(by_git).items()} == applied.before
    by_codefix = shutil.copytree(applied.root, tmp_path / "codefix", symlinks=True)
    result = invoke("revert", by_codefix / applied.patch.relative_to(applied.root), cwd=by_codefix)
    assert result.exit_code == 0, result.output
    assert snapshot(by_codefix) == applied.before


# --- Shape of the edit, per style ---------------------------------------------------------


def test_fixture_bytes_are_what_the_cases_need():
    """Guard the fixtures: a checkout that normalised them would make the tests vacuous."""
    tox = (CASES_DIR / "tox_ini" / "tox.ini").read_bytes()
    assert tox.count(b"\r\n") == tox.count(b"\n") > 5
    assert not (CASES_DIR / "setup_cfg" / "setup.cfg").read_bytes().endswith(b"\n")


def test_crlf_ini_file_keeps_crlf_and_its_indentation(tmp_path_factory):
    applied = applied_case(next(c for c in CASES if c.name == "tox_ini"), tmp_path_factory)
    data = (applied.root / "tox.ini").read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")
    assert b"\r\n  db: needs the database\r\n  canary: TODO: describe\r\n  migration: TODO: describe\r\n" in data


def test_toml_array_keeps_quoting_comments_and_inline_shape(tmp_path_factory):
    literal = applied_case(next(c for c in CASES if c.name == "ini_options"), tmp_path_factory)
    text = (literal.root / "pyproject.toml").read_text(encoding="utf-8")
    assert "    'smoke: the deploy gate',  # keep first in --markers output\n    'contract: TODO: describe',\n" in text
    assert "    # regressions, one per bug\n" in text
    inline = applied_case(next(c for c in CASES if c.name == "native_table"), tmp_path_factory)
    line = next(l for l in (inline.root / "pyproject.toml").read_text().splitlines() if l.startswith("markers"))
    assert line.endswith('"month_end: TODO: describe", "reconciliation: TODO: describe"]  # inline on purpose')


def test_fix_typos_renames_the_use_to_the_registered_marker(tmp_path_factory):
    applied = applied_case(next(c for c in CASES if c.name == "ini_options"), tmp_path_factory)
    source = (applied.root / "tests" / "test_search.py").read_text(encoding="utf-8")
    original = (CASES_DIR / "ini_options" / "tests" / "test_search.py").read_text(encoding="utf-8")
    assert source == original.replace("@pt.mark.intergration", "@pt.mark.integration")


def test_pytest_8_pin_writes_where_pytest_8_reads(tmp_path_factory):
    """The native table stays as it was; every marker in use is also in ini_options."""
    applied = applied_case(next(c for c in CASES if c.name == "pinned_pytest8"), tmp_path_factory)
    document = tomllib.loads((applied.root / "pyproject.toml").read_text(encoding="utf-8"))
    assert document["tool"]["pytest"]["markers"] == ["slow: takes more than a second"]
    assert document["tool"]["pytest"]["ini_options"]["markers"] == ["pdf: TODO: describe", "slow: TODO: describe"]


def test_the_listing_shortcut_knows_how_every_requirements_file_name_starts():
    from codefix.rules import _pytest_requirements as requirements

    for pattern in requirements.REQUIREMENT_FILE_PATTERNS:
        assert pattern.startswith(requirements._REQUIREMENT_FILE_STARTS), pattern
