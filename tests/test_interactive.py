"""`codefix apply --interactive`: hunk-by-hunk review, and the hunk split/merge beneath it.

The answers come from CliRunner's `input=` with CODEFIX_ASSUME_TERMINAL=1
(the test-only switch that stands in for a terminal). The oracles: the bytes
written are the old file with exactly the accepted hunks applied, the saved
patch undoes them with `git apply -R`, CPython parses every written file,
and without a terminal nothing is asked and nothing is written.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_parses, git, invoke, read_terminal, snapshot, write
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from codefix.changed_lines import line_mapper
from codefix.cli import app
from codefix.interactive import merge_hunks, review, settle, split_hunks
from codefix.patch import split_lines
from codefix.types import FileChange, Finding, RunResult

FACTORY = "def load_settings():\n    return {}\n"
PADDING = "".join(f"X{n} = {n}\n" for n in range(10))  # keeps the two awaits in separate hunks
TWO_AWAITS = (
    "from pkg.settings import load_settings\n\n\n"
    "async def first():\n    return await load_settings()\n\n\n"
    + PADDING
    + "\n\nasync def second():\n    return await load_settings()\n"
)
ONE_AWAIT = "from pkg.settings import load_settings\n\n\nasync def only():\n    return await load_settings()\n"


def two_files(project: Path) -> Path:
    return write(project, {"pkg/__init__.py": "", "pkg/settings.py": FACTORY, "pkg/a.py": TWO_AWAITS, "pkg/b.py": ONE_AWAIT})


def review_run(project: Path, answers: str, *more: str):
    """`codefix apply --interactive` answering `answers` as if typed at a terminal."""
    with contextlib.chdir(project):
        result = CliRunner().invoke(
            app,
            ["apply", "--rule", "await-sync", "--interactive", "--patch", "review.patch", *more],
            input=answers,
            env={"NO_COLOR": "1", "COLUMNS": "200", "CODEFIX_ASSUME_TERMINAL": "1"},
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def first_await_only(text: str) -> str:
    return text.replace("return await load_settings()", "return load_settings()", 1)


def test_only_accepted_hunks_are_written_and_the_patch_holds_only_them(project: Path) -> None:
    two_files(project)
    before = snapshot(project)
    result = review_run(project, "y\nn\ny\n")
    assert result.stdout.count("Apply this hunk") == 3, result.stdout
    assert "(1/2) Apply this hunk to pkg/a.py" in result.stdout and "(1/1) Apply this hunk to pkg/b.py" in result.stdout
    assert (project / "pkg/a.py").read_text() == first_await_only(TWO_AWAITS)
    assert (project / "pkg/b.py").read_text() == ONE_AWAIT.replace("await ", "")
    assert_parses(project / "pkg/a.py")
    assert "pkg/a.py:21:12: await-sync" in result.stdout  # the skipped await remains, on its line
    assert result.exit_code == 1  # a finding remains
    assert "Fixed 2 findings in 2 files." in result.stdout
    git("apply", "-R", "review.patch", cwd=project)
    assert snapshot(project) | {"review.patch": b""} == before | {"review.patch": b""}


def test_a_accepts_every_remaining_hunk_and_q_skips_them(project: Path) -> None:
    two_files(project)
    result = review_run(project, "n\na\n")
    assert result.stdout.count("Apply this hunk") == 2
    assert (project / "pkg/a.py").read_text() == TWO_AWAITS.replace("second():\n    return await", "second():\n    return")
    assert (project / "pkg/b.py").read_text() == ONE_AWAIT.replace("await ", "")


def test_q_keeps_what_was_accepted_and_skips_the_rest(project: Path) -> None:
    two_files(project)
    result = review_run(project, "y\nq\n")
    assert result.stdout.count("Apply this hunk") == 2
    assert (project / "pkg/a.py").read_text() == first_await_only(TWO_AWAITS)
    assert (project / "pkg/b.py").read_text() == ONE_AWAIT


@pytest.mark.parametrize("answers", ["", "n\n", "n\nn\nn\n"])
def test_end_of_input_or_all_skipped_writes_nothing_and_saves_no_patch(project: Path, answers: str) -> None:
    two_files(project)
    before = snapshot(project)
    result = review_run(project, answers)
    assert snapshot(project) == before
    assert not (project / "review.patch").exists()
    assert "Fixed 0 findings in 0 files." in result.stdout
    assert result.exit_code == 1


def test_an_unknown_answer_shows_the_help_and_asks_again(project: Path) -> None:
    two_files(project)
    result = review_run(project, "maybe\n?\nY\nn\nn\n")
    assert result.stdout.count("(1/2) Apply this hunk to pkg/a.py") == 3
    assert result.stdout.count("a - apply this hunk and every remaining one") == 2
    assert (project / "pkg/a.py").read_text() == first_await_only(TWO_AWAITS)


def test_each_hunk_is_shown_as_a_diff_before_the_question(project: Path) -> None:
    two_files(project)
    result = review_run(project, "n\nn\nn\n")
    out = result.stdout
    assert out.index("diff --git a/pkg/a.py b/pkg/a.py") < out.index("-    return await load_settings()") < out.index("(1/2)")
    assert out.count("diff --git a/pkg/a.py") == 1  # the file header once, then each further hunk alone
    assert out.index("(1/2)") < out.index("@@ -18,") < out.index("(2/2)")


def test_dry_run_reviews_and_prints_and_saves_only_the_accepted_diff(project: Path) -> None:
    two_files(project)
    before = snapshot(project)
    result = review_run(project, "n\ny\nn\n", "--dry-run")
    patch = (project / "review.patch").read_text()
    assert {k: v for k, v in snapshot(project).items() if k != "review.patch"} == before
    printed = result.stdout[result.stdout.rindex("(1/1) Apply this hunk to pkg/b.py"):]
    for diff in (printed, patch):
        assert diff.count("-    return await load_settings()") == 1 and "pkg/b.py" not in diff.split("\n", 1)[1]
        assert "second():\n-    return await load_settings()\n+    return load_settings()" in diff


def test_without_a_terminal_it_refuses_in_one_line_and_writes_nothing(project: Path) -> None:
    two_files(project)
    before = snapshot(project)
    result = invoke("apply", "--rule", "await-sync", "--interactive", cwd=project)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codefix: error: --interactive needs a terminal"), result.stderr
    assert snapshot(project) == before


def test_a_partial_acceptance_that_does_not_parse_is_reported_and_not_written() -> None:
    before = b"VALUES = (\n" + b"".join(b"    %d,\n" % n for n in range(12)) + b")\n"
    after = before.replace(b"VALUES = (", b"VALUES = [").replace(b"\n)\n", b"\n]\n")
    change = FileChange("values.py", before, after)
    assert len(split_hunks(change)) == 2
    answers = iter(["y", "n"])
    outcome = review([change], Console(file=io.StringIO()), lambda _prompt: next(answers))
    assert outcome.finals == {"values.py": before}
    assert len(outcome.errors) == 1 and "do not parse without the others" in outcome.errors[0].message


def test_the_diff_is_coloured_on_a_terminal() -> None:
    change = FileChange("m.py", b"a = 1\n", b"a = 2\n")
    out = io.StringIO()
    review([change], Console(file=out, force_terminal=True, color_system="standard"), lambda _prompt: "n")
    assert "\x1b[31m-a = 1" in out.getvalue() and "\x1b[32m+a = 2" in out.getvalue()


def test_crlf_bom_and_a_missing_final_newline_survive_a_partial_merge() -> None:
    lines = [b"\xef\xbb\xbfx = 0\r\n", *(b"y%d = %d\r\n" % (n, n) for n in range(10)), b"z = 1"]
    before = b"".join(lines)
    after = before.replace(b"x = 0", b"x = 9").replace(b"z = 1", b"z = 2")
    change = FileChange("crlf.py", before, after)
    first, last = split_hunks(change)
    assert merge_hunks(change, [first]) == before.replace(b"x = 0", b"x = 9")
    assert merge_hunks(change, [last]) == before.replace(b"z = 1", b"z = 2")


LINES = st.lists(st.sampled_from([b"a\n", b"b\r\n", b"c\n", b"d", b"\n", b"e\n"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(LINES, LINES, st.data())
def test_merging_hunks_is_exact_for_any_subset(old_parts: list[bytes], new_parts: list[bytes], data: st.DataObject) -> None:
    before, after = b"".join(old_parts), b"".join(new_parts)
    old, new = split_lines(before), split_lines(after)
    change = FileChange("f.py", before, after)
    hunks = split_hunks(change)
    assert merge_hunks(change, hunks) == after
    assert merge_hunks(change, []) == before
    chosen = data.draw(st.lists(st.sampled_from(hunks), unique=True) if hunks else st.just([]))
    # Rebuilt independently from the hunks' own edits: old lines, with the chosen edits' new lines.
    expected: list[bytes] = []
    position = 0
    for hunk in hunks:
        for _tag, i1, i2, j1, j2 in hunk.edits:
            expected += old[position:i1] + (new[j1:j2] if hunk in chosen else old[i1:i2])
            position = i2
    expected += old[position:]
    assert merge_hunks(change, chosen) == b"".join(expected)


def finding(path: str, line: int, end_line: int | None = None, rule: str = "await-sync") -> Finding:
    return Finding(rule, path, line, 1, end_line or line, 2, "m", True)


def test_settle_moves_remaining_findings_onto_the_bytes_really_written() -> None:
    before = b"".join(b"line %d\n" % n for n in range(1, 21))
    # The fix inserts two lines at the top and rewrites line 18; a finding it cannot fix sits on old line 10.
    after = b"new 1\nnew 2\n" + before.replace(b"line 18\n", b"fixed 18\n")
    change = FileChange("m.py", before, after, rules=("await-sync",))
    top, bottom = split_hunks(change)
    result = RunResult(
        root=Path("."), findings=(finding("m.py", 12),), fixed=(finding("m.py", 18),), changes=(change,)
    )
    rejected = settle(result, {"m.py": before})
    assert rejected.changes == () and rejected.fixed == ()
    assert [(f.line, f.end_line) for f in rejected.findings] == [(10, 10), (18, 18)]
    only_top = settle(result, {"m.py": merge_hunks(change, [top])})
    assert [f.line for f in only_top.findings] == [12, 20] and only_top.fixed == ()
    only_bottom = settle(result, {"m.py": merge_hunks(change, [bottom])})
    assert [f.line for f in only_bottom.findings] == [10] and only_bottom.fixed == (finding("m.py", 18),)
    assert settle(result, {"m.py": after}) == result


def test_a_configuration_change_counts_its_findings_fixed_only_when_kept() -> None:
    change = FileChange("pyproject.toml", b"a = 1\n", b"a = 1\nb = 2\n", rules=("pytest-markers",))
    fixed = finding("tests/test_x.py", 4, rule="pytest-markers")
    result = RunResult(root=Path("."), fixed=(fixed,), changes=(change,))
    assert settle(result, {"pyproject.toml": change.before}).findings == (fixed,)
    assert settle(result, {"pyproject.toml": change.after}).fixed == (fixed,)


def test_line_mapper_follows_lines_across_inserted_deleted_and_replaced_blocks() -> None:
    old = b"a\nb\nc\nd\ne\n"
    new = b"top\na\nc\nD\ne\n"
    mapped = line_mapper(old, new)
    assert [mapped(n) for n in range(1, 6)] == [2, 3, 3, 4, 5]


def test_a_real_terminal_is_asked_without_the_test_switch(project: Path) -> None:
    """The whole path in a real process on a pseudo-terminal: isatty() is what lets it ask."""
    two_files(project)
    environment = {k: v for k, v in os.environ.items() if k not in ("CODEFIX_ASSUME_TERMINAL", "NO_COLOR", "FORCE_COLOR")}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "codefix", "apply", "--rule", "await-sync", "--interactive", "."],
        cwd=project, stdin=follower, stdout=follower, stderr=follower, env={**environment, "COLUMNS": "200"},
    )
    os.close(follower)
    os.write(leader, b"y\nn\ny\n")  # typed ahead: the terminal holds the lines until they are read
    chunks = read_terminal(leader)
    assert process.wait(timeout=300) == 1  # the skipped await remains
    os.close(leader)
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in output and "Apply this hunk" in output  # coloured, and asked
    assert (project / "pkg/a.py").read_text() == first_await_only(TWO_AWAITS)
    assert (project / "pkg/b.py").read_text() == ONE_AWAIT.replace("await ", "")
