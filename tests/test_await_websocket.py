"""Before/after fixture suite of `await-websocket` and its generalization `await-sync`.

Each fixture project under tests/fixtures/ holds `before/` (the input, a small
multi-package project), `after/` (the exact bytes `codefix apply` must leave)
and `expected_findings.json` (what `codefix scan` must report on `before/`).
Every fixture gets the same battery: the output is `after/` byte for byte and
parses, a second apply changes nothing, a re-scan finds nothing fixable,
`--dry-run` prints the diff and writes nothing, and the saved patch is undone
by `git apply -R`, `patch -p1 -R` and `codefix revert`. Rule-specific tests
(encodings, suppression, syntax errors, skipped folders, no-op runs) follow.

codefix runs in-process through typer's test runner, as the console script
would run it; subprocesses are kept for what only a real process shows.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import re
import shutil
import subprocess
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codefix.cli import app
from codefix.rules import RULES_BY_ID
from conftest import FIXTURES, assert_parses, copy_tree, git, snapshot

RUNNER = CliRunner()


def invoke(*args: str | Path, cwd: Path | None = None):
    """`codefix ARGS` in-process, in `cwd`; an unexpected exception fails the test as itself."""
    with contextlib.chdir(cwd or Path.cwd()):
        result = RUNNER.invoke(app, [str(arg) for arg in args], env={"NO_COLOR": "1", "COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def scan_json(root: Path, *rules: str, paths: tuple[Path | str, ...] = ()) -> dict:
    result = invoke("scan", "--format", "json", *rule_args(rules), *(paths or (root,)), cwd=root)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def rule_args(rules: tuple[str, ...]) -> list[str]:
    return [part for rule in rules for part in ("--rule", rule)]


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    rules: tuple[str, ...]

    @property
    def expected(self) -> dict:
        return json.loads((self.folder / "expected_findings.json").read_text(encoding="utf-8"))


CASES = [
    Case("await-websocket", FIXTURES / "await_websocket", ("await-websocket",)),
    Case("replacement", FIXTURES / "await_websocket" / "replacement", ("await-websocket",)),
    Case("await-sync", FIXTURES / "await_sync", ("await-sync",)),
]
WEBSOCKET, REPLACEMENT, AWAIT_SYNC = CASES

#: Files in folders codefix must never read or write: each would be a finding
#: (or an error) if it were. `.venv/` is gitignored, so they are made here.
_VENDORED = (
    b"def get_websocket_manager():\n"
    b"    return None\n\n\n"
    b"async def hook():\n"
    b"    return await get_websocket_manager()\n"
)
SKIPPED_FILES = {
    "node_modules/chat-widget/tools/hook.py": _VENDORED,
    ".venv/lib/python3.11/site-packages/relay_old/ws.py": _VENDORED,
    ".venv/lib/python3.11/site-packages/relay_old/broken.py": b"def broken(:\n",
}


def materialize(case: Case, destination: Path, tree: str = "before") -> Path:
    """A private copy of a fixture tree, with the files of skipped folders added."""
    copy_tree(case.folder / tree, destination)
    for relative, data in SKIPPED_FILES.items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return destination


def expected_tree(case: Case) -> dict[str, bytes]:
    return {**snapshot(case.folder / "after"), **SKIPPED_FILES}


def assert_same_tree(actual: dict[str, bytes], expected: dict[str, bytes]) -> None:
    """Equal file sets and bytes; on failure, name the files and show the first difference."""
    assert sorted(actual) == sorted(expected), "the file sets differ"
    different = [path for path in expected if actual[path] != expected[path]]
    if different:
        first = different[0]
        diff = "".join(
            difflib.unified_diff(
                expected[first].decode("latin-1").splitlines(keepends=True),
                actual[first].decode("latin-1").splitlines(keepends=True),
                f"expected/{first}",
                f"actual/{first}",
            )
        )
        pytest.fail(f"files differ from the expected bytes: {different}\n{diff!r}")


@dataclass
class Applied:
    """One fixture after `codefix apply`, in a git repository holding `before/` as its commit."""

    case: Case
    root: Path
    before: dict[str, bytes]
    scan_before: dict
    exit_code: int
    stdout: str
    patch: Path


_APPLIED: dict[str, Applied] = {}


def applied_case(case: Case, factory: pytest.TempPathFactory) -> Applied:
    """Apply each fixture once per session; tests that modify it work on copies."""
    if case.name not in _APPLIED:
        root = materialize(case, factory.mktemp(case.name) / "project")
        git("-c", "core.autocrlf=false", "init", "-q", ".", cwd=root)
        git("-c", "core.autocrlf=false", "add", "-A", "-f", ".", cwd=root)
        git("-c", "core.autocrlf=false", "commit", "-q", "-m", "before", cwd=root)
        before = snapshot(root)
        scanned = scan_json(root, *case.rules)
        result = invoke("apply", *rule_args(case.rules), root, cwd=root)
        patches = sorted((root / ".codefix" / "patches").glob("*.patch"))
        assert len(patches) == 1, result.output
        _APPLIED[case.name] = Applied(case, root, before, scanned, result.exit_code, result.stdout, patches[0])
    return _APPLIED[case.name]


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def applied(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Applied:
    return applied_case(request.param, tmp_path_factory)


@pytest.fixture
def websocket(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    return applied_case(WEBSOCKET, tmp_path_factory)


def changed_paths(applied: Applied) -> list[str]:
    after = snapshot(applied.root)
    return [path for path, data in applied.before.items() if after.get(path) != data]


def copy_of(applied: Applied, destination: Path) -> Path:
    """The applied project (with its .git and .codefix) copied for a test that changes it."""
    shutil.copytree(applied.root, destination, symlinks=True)
    return destination


def local_patch(applied: Applied, root: Path) -> Path:
    return root / applied.patch.relative_to(applied.root)


def encoding_of(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return "utf-8" if encoding == "utf-8-sig" else encoding


# --- The battery every fixture goes through -------------------------------------------


def test_fixture_is_what_the_scenarios_need():
    """Guard the fixture itself: a checkout that normalised its bytes would make the other tests vacuous."""
    before = WEBSOCKET.folder / "before" / "relay"
    crlf = (before / "crlf_module.py").read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") > 5
    assert (before / "bom_module.py").read_bytes().startswith(b"\xef\xbb\xbf")
    latin = (before / "latin1_module.py").read_bytes()
    assert b"caf\xe9 cr\xe8me" in latin
    with pytest.raises(UnicodeDecodeError):
        latin.decode("utf-8")
    assert (before / "__init__.py").read_bytes() == b""
    assert not (before / "no_final_newline.py").read_bytes().endswith(b"\n")
    assert (before / "status page.py").is_file()
    for case in CASES:
        assert snapshot(case.folder / "before") != snapshot(case.folder / "after"), case.name


def test_apply_writes_the_after_tree_byte_for_byte(applied: Applied):
    assert_same_tree(snapshot(applied.root), expected_tree(applied.case))


def test_every_rewritten_file_parses(applied: Applied):
    changed = changed_paths(applied)
    assert changed
    for path in changed:
        assert_parses(applied.root / path)


def test_apply_reports_the_patch_and_exits_by_what_remains(applied: Applied):
    remaining = [f for f in applied.case.expected["findings"] if not f["fixable"]]
    assert applied.exit_code == (1 if remaining else 0)
    assert str(applied.patch) in applied.stdout
    fixed = sum(f["fixable"] for f in applied.case.expected["findings"])
    assert f"Fixed {fixed} findings in {len(changed_paths(applied))} files." in applied.stdout


def test_findings_match_the_snapshot(applied: Applied):
    keys = ("rule", "path", "line", "col", "end_line", "end_col", "fixable")
    found = applied.scan_before
    expected = applied.case.expected
    assert [{k: f[k] for k in keys} for f in found["findings"]] == [{k: f[k] for k in keys} for f in expected["findings"]]
    for finding, wanted in zip(found["findings"], expected["findings"]):
        for part in wanted["message_contains"]:
            assert part in finding["message"], (finding, part)
    assert [e["path"] for e in found["errors"]] == [e["path"] for e in expected["errors"]]
    for error, wanted in zip(found["errors"], expected["errors"]):
        for part in wanted["message_contains"]:
            assert part in error["message"], (error, part)


def test_findings_point_at_the_flagged_code(applied: Applied):
    """An oracle apart from the snapshot: each span covers `await f(...)`, or `f(...)` handed to asyncio."""
    for finding in applied.scan_before["findings"]:
        data = applied.before[finding["path"]]
        lines = data.decode(encoding_of(data)).replace("\ufeff", "", 1).splitlines()
        first, last = finding["line"] - 1, finding["end_line"] - 1
        if first == last:
            span = lines[first][finding["col"] - 1 : finding["end_col"] - 1]
        else:
            span = "\n".join([lines[first][finding["col"] - 1 :], *lines[first + 1 : last], lines[last][: finding["end_col"] - 1]])
        assert span.endswith(")"), (finding, span)
        if "needs an awaitable" in finding["message"]:
            callee = re.search(r"but `([\w.]+)` is synchronous", finding["message"]).group(1)
            assert span.startswith(f"{callee}("), (finding, span)
        else:
            callee = re.match(r"`([\w.]+)`", finding["message"]).group(1)
            assert re.match(rf"await\s+\(?\s*(#[^\n]*\n\s*)*{re.escape(callee)}\(", span), (finding, span)


def test_second_apply_changes_nothing(applied: Applied, tmp_path: Path):
    root = materialize(applied.case, tmp_path / "again", tree="after")
    before = snapshot(root)
    result = invoke("apply", *rule_args(applied.case.rules), root, cwd=root)
    assert snapshot(root) == before
    assert not (root / ".codefix").exists(), "no change, so no patch"
    assert "Fixed 0 findings in 0 files." in result.stdout


def test_rescan_finds_nothing_fixable_and_the_rest_remains(applied: Applied):
    after = scan_json(applied.root, *applied.case.rules)
    assert [f for f in after["findings"] if f["fixable"]] == []
    # Positions may move (a bare `await` line disappears); what remains must not.
    remaining = Counter((f["rule"], f["path"], f["message"]) for f in after["findings"])
    unfixable = Counter((f["rule"], f["path"], f["message"]) for f in applied.scan_before["findings"] if not f["fixable"])
    assert remaining == unfixable


def test_strings_comments_and_docstrings_are_untouched(applied: Applied):
    """Every string and comment token of every rewritten file is the same, in order (f-strings hold code)."""

    def mentions(data: bytes) -> list[str]:
        tokens = tokenize.tokenize(io.BytesIO(data).readline)
        return [
            t.string
            for t in tokens
            if t.type == tokenize.COMMENT
            or (t.type == tokenize.STRING and not re.match(r"(?i)[rb]*f", t.string))
        ]

    after = snapshot(applied.root)
    for path in changed_paths(applied):
        assert mentions(after[path]) == mentions(applied.before[path]), path


def test_dry_run_writes_nothing_and_prints_the_diff(applied: Applied, tmp_path: Path):
    root = materialize(applied.case, tmp_path / "dry")
    before = snapshot(root)
    result = invoke("apply", "--dry-run", *rule_args(applied.case.rules), root, cwd=root)
    assert snapshot(root) == before
    assert not (root / ".codefix").exists()
    # The printed diff is the saved patch without its header, each file shown in its own encoding.
    patch = applied.patch.read_bytes()
    body = patch[patch.index(b"diff --git ") :]
    expected = []
    for part in re.split(rb"(?=^diff --git )", body, flags=re.M):
        if part:
            path = part.split(b"\n", 1)[0][len(b"diff --git a/") :].split(b" b/")[0].decode()
            expected.append(part.decode(encoding_of(before[path])))
    assert result.stdout_bytes.decode("utf-8") == "".join(expected)
    assert "\x1b[" not in result.stdout, "plain when not a terminal"
    fixed = sum(f["fixable"] for f in applied.case.expected["findings"])
    assert f"Would fix {fixed} findings" in result.stderr


def test_git_apply_reverse_restores_the_original_bytes(applied: Applied, tmp_path: Path):
    root = copy_of(applied, tmp_path / "git")
    git("apply", "-R", "--check", str(local_patch(applied, root)), cwd=root)
    git("apply", "-R", str(local_patch(applied, root)), cwd=root)
    assert snapshot(root) == applied.before
    assert git("status", "--porcelain", cwd=root).stdout == ""


@pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch is not installed")
def test_patch_p1_reverse_restores_the_original_bytes(applied: Applied, tmp_path: Path):
    root = copy_of(applied, tmp_path / "patch")
    with local_patch(applied, root).open("rb") as handle:
        subprocess.run(["patch", "-p1", "-R", "--quiet"], cwd=root, stdin=handle, check=True, capture_output=True)
    assert snapshot(root) == applied.before


def test_codefix_revert_restores_the_original_bytes(applied: Applied, tmp_path: Path):
    root = copy_of(applied, tmp_path / "revert")
    result = invoke("revert", local_patch(applied, root), cwd=root)
    assert result.exit_code == 0, result.output
    assert snapshot(root) == applied.before
    again = invoke("revert", local_patch(applied, root), cwd=root)
    assert again.exit_code == 1, "a second revert finds the files already reverted and refuses"
    assert snapshot(root) == applied.before


def test_codefix_revert_refuses_after_a_manual_edit(applied: Applied, tmp_path: Path):
    root = copy_of(applied, tmp_path / "edited")
    patch = local_patch(applied, root)
    files = re.findall(rb"^diff --git a/(.+?) b/", patch.read_bytes(), flags=re.M)
    edited = files[-1].decode()  # the last file: reverting file by file would already have written the others
    with (root / edited).open("ab") as handle:
        handle.write(b"# edited by hand after the fix\n")
    state = snapshot(root)
    result = invoke("revert", patch, cwd=root)
    assert result.exit_code == 1
    assert edited in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(root) == state, "nothing written"


# --- await-websocket specifics ------------------------------------------------------------


def test_crlf_bom_and_latin1_survive_the_rewrite(websocket: Applied):
    after = snapshot(websocket.root)
    crlf = after["relay/crlf_module.py"]
    assert b"await" not in crlf
    assert crlf.count(b"\r\n") == crlf.count(b"\n") == websocket.before["relay/crlf_module.py"].count(b"\n")
    bom = after["relay/bom_module.py"]
    assert bom.startswith(b"\xef\xbb\xbf") and not bom.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    assert b"await get_websocket_manager" not in bom
    latin = after["relay/latin1_module.py"]
    assert b"caf\xe9 cr\xe8me" in latin and b"d\xe9j\xe0 synchrone" in latin
    assert b"await get_websocket_manager" not in latin
    with pytest.raises(UnicodeDecodeError):
        latin.decode("utf-8")
    assert not after["relay/no_final_newline.py"].endswith(b"\n")


def test_a_file_with_a_syntax_error_is_reported_and_the_run_goes_on(websocket: Applied):
    errors = websocket.scan_before["errors"]
    assert [(e["path"], "syntax error" in e["message"]) for e in errors] == [("relay/broken.py", True)]
    assert snapshot(websocket.root)["relay/broken.py"] == websocket.before["relay/broken.py"]
    assert "relay/broken.py: error: syntax error" in websocket.stdout
    assert len(changed_paths(websocket)) > 10, "the other files were still fixed"


def test_skipped_folders_are_neither_read_nor_written(websocket: Applied):
    reported = [f["path"] for f in websocket.scan_before["findings"]] + [e["path"] for e in websocket.scan_before["errors"]]
    assert not [path for path in reported if path.startswith(("node_modules/", ".venv/"))]
    after = snapshot(websocket.root)
    assert {path: after[path] for path in SKIPPED_FILES} == SKIPPED_FILES


def test_suppression_comments(websocket: Applied, tmp_path: Path):
    """Bare and rule-specific `# codefix: ignore`; another rule's id suppresses nothing."""
    target = materialize(WEBSOCKET, tmp_path / "suppression")
    path = "relay/suppressed.py"
    by_websocket = scan_json(target, "await-websocket", paths=(target / path,))["findings"]
    assert [f["line"] for f in by_websocket] == [9, 14]  # ignore[await-sync], and the statement after a string
    by_sync = scan_json(target, "await-sync", paths=(target / path,))["findings"]
    assert [f["line"] for f in by_sync] == [8, 10, 11, 14]
    text = snapshot(websocket.root)[path].decode()
    assert text.count("await get_websocket_manager(") == 5  # 4 suppressed, and the one inside a string


def test_deliberate_failures_stay_and_ordinary_blocks_are_fixed(websocket: Applied):
    after = snapshot(websocket.root)["tests/test_handlers.py"].decode()
    for block in (
        "    with pytest.raises(TypeError):\n        await get_websocket_manager(ctx)\n",
        "    with pytest.raises((ValueError, TypeError)):\n        await get_websocket_manager(ctx)\n",
        "    try:\n        await get_websocket_manager(ctx)\n    except TypeError:\n",
        "    with pytest.raises(KeyError):\n        manager = get_websocket_manager(ctx)\n",
        "    try:\n        manager = get_websocket_manager(ctx)\n    except Exception:\n",
    ):
        assert block in after, block
    unittest_style = snapshot(websocket.root)["tests/test_unittest_style.py"].decode()
    assert "with self.assertRaises(TypeError) as raised:\n            await compat" in unittest_style
    assert "manager = await self.get_websocket_manager()" in unittest_style


def test_apply_on_files_without_findings_is_a_no_op(tmp_path: Path):
    root = materialize(WEBSOCKET, tmp_path / "noop")
    before = snapshot(root)
    result = invoke("apply", "--rule", "await-websocket", root / "relay" / "variants", root / "relay" / "legacy.py", cwd=root)
    assert result.exit_code == 0, result.output
    assert snapshot(root) == before
    assert not (root / ".codefix").exists()
    assert "Fixed 0 findings in 0 files." in result.stdout


def test_apply_on_one_file_changes_only_that_file(tmp_path: Path):
    root = materialize(WEBSOCKET, tmp_path / "one")
    before = snapshot(root)
    result = invoke("apply", "--rule", "await-websocket", root / "relay" / "handlers.py", cwd=root)
    assert result.exit_code == 1, "the await whose comment has no place to go remains"
    after = snapshot(root)
    assert [path for path in before if after[path] != before[path]] == ["relay/handlers.py"]
    assert after["relay/handlers.py"] == (WEBSOCKET.folder / "after" / "relay" / "handlers.py").read_bytes()


def test_await_sync_default_is_the_one_its_documentation_states(tmp_path: Path):
    """On or off is decided from measured noise; whichever it is, the docs say it and `scan` does it."""
    rule = RULES_BY_ID["await-sync"]
    stated = re.search(r"^## Default\s+(On|Off)\b", rule.documentation(), flags=re.M | re.I)
    assert stated, "the documentation of await-sync must state its default under `## Default`"
    assert (stated.group(1).lower() == "on") == rule.default_enabled
    root = materialize(AWAIT_SYNC, tmp_path / "default")
    found = scan_json(root)["findings"]
    assert ("await-sync" in {f["rule"] for f in found}) == rule.default_enabled
    # One bug, one finding: where both rules flag the same await, the narrower one reports it.
    assert [f["rule"] for f in found if (f["path"], f["line"]) == ("billing/service.py", 49)] == ["await-websocket"]


def test_both_rules_on_one_await_remove_it_once(tmp_path: Path):
    root = materialize(AWAIT_SYNC, tmp_path / "both")
    result = invoke("apply", "--rule", "await-websocket", "--rule", "await-sync", root, cwd=root)
    assert result.exit_code == 1, result.output
    assert_same_tree(snapshot(root), expected_tree(AWAIT_SYNC))
