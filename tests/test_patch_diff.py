"""The unified diffs of patches (patch.file_diff): undone exactly, by codefix and by git.

`file_diff` matches lines with difflib only between the first and the last
changed line (the rest is equal on both sides); its own hunk grouping and
headers follow the unified format. The oracle is reversal: codefix's own
reader and `git apply -R` must get the old bytes back from the new ones,
for random edits of random files, with and without a final newline.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from codefix.patch import file_diff, make_patch, parse_patch, reverse_apply
from codefix.types import FileChange


def _random_pair(rng: random.Random) -> tuple[bytes, bytes]:
    # Few distinct lines, so that matching has choices to make.
    lines = [b"l%d\n" % rng.randint(0, 8) for _ in range(rng.randint(0, 60))]
    if lines and rng.random() < 0.3:
        lines[-1] = lines[-1].rstrip(b"\n")
    after = list(lines)
    for _ in range(rng.randint(1, 5)):
        where = rng.randint(0, len(after))
        choice = rng.random()
        if choice < 0.4 or not after:
            after.insert(where, b"n%d\n" % rng.randint(0, 5))
        elif choice < 0.7:
            del after[min(where, len(after) - 1)]
        else:
            after[min(where, len(after) - 1)] = b"c%d\n" % rng.randint(0, 5)
    if after and rng.random() < 0.2:
        after[-1] = after[-1].rstrip(b"\n")
    if rng.random() < 0.2:
        return b"".join(lines).replace(b"\n", b"\r\n"), b"".join(after).replace(b"\n", b"\r\n")
    return b"".join(lines), b"".join(after)


def test_random_edits_are_undone_by_the_patch_reader():
    rng = random.Random(3)
    for _ in range(3000):
        before, after = _random_pair(rng)
        change = FileChange(path="pkg/x.py", before=before, after=after)
        if before == after:
            assert b"@@" not in file_diff(change)
            continue
        [patch] = parse_patch(make_patch([change]))
        assert reverse_apply(after, patch) == before


def test_random_edits_are_undone_by_git(tmp_path: Path):
    rng = random.Random(4)
    changes = []
    for number in range(60):
        before, after = _random_pair(rng)
        if before == after:
            continue
        changes.append(FileChange(path=f"f{number}.py", before=before, after=after))
        (tmp_path / f"f{number}.py").write_bytes(after)
    (tmp_path / "all.patch").write_bytes(make_patch(changes))
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-R", "all.patch"], cwd=tmp_path, check=True, capture_output=True)
    for change in changes:
        assert (tmp_path / change.path).read_bytes() == change.before, change.path


def test_a_change_in_a_long_file_is_one_hunk_with_three_lines_of_context():
    before = b"".join(b"line %d\n" % n for n in range(1, 5001))
    after = before.replace(b"line 2500\n", b"line 2500 changed\n")
    diff = file_diff(FileChange(path="big.py", before=before, after=after))
    assert diff.split(b"\n", 3)[3] == (
        b"@@ -2497,7 +2497,7 @@\n line 2497\n line 2498\n line 2499\n-line 2500\n+line 2500 changed\n"
        b" line 2501\n line 2502\n line 2503\n"
    )


def _difflib_diff(change: FileChange) -> bytes:
    """What difflib's own unified_diff makes of the whole files, in the patch's layout."""
    import difflib

    from codefix.patch import split_lines

    out = [b"diff --git a/%s b/%s\n" % (change.path.encode(), change.path.encode())]
    body = difflib.diff_bytes(
        difflib.unified_diff, split_lines(change.before), split_lines(change.after),
        fromfile=b"a/" + change.path.encode(), tofile=b"b/" + change.path.encode(), lineterm=b"",
    )
    for number, line in enumerate(body):
        if number < 3 or line.startswith(b"@@"):  # ---, +++ and hunk headers come without their line feed
            out.append(line + b"\n")
        elif line.endswith(b"\n"):
            out.append(line)
        else:
            out.append(line + b"\n\\ No newline at end of file\n")
    return b"".join(out)


def test_with_lines_of_their_own_the_diff_is_difflibs_to_the_byte():
    """Where matching has one answer (no line repeats), trimming changes nothing: hunks, headers, empty sides."""
    rng = random.Random(5)
    for _ in range(2000):
        lines = [b"line %d\n" % n for n in range(rng.randint(0, 40))]
        after = list(lines)
        for edit in range(rng.randint(1, 4)):
            where = rng.randint(0, len(after))
            if rng.random() < 0.5 or not after:
                after.insert(where, b"new %d\n" % edit)
            else:
                del after[min(where, len(after) - 1)]
        if after and rng.random() < 0.2:
            after[-1] = after[-1].rstrip(b"\n")
        change = FileChange(path="pkg/x.py", before=b"".join(lines), after=b"".join(after))
        assert file_diff(change) == _difflib_diff(change)


def test_the_writer_diffs_each_file_once_and_its_patch_undoes_the_run(tmp_path: Path, monkeypatch):
    import codefix.patch
    import codefix.writer
    from codefix.writer import write_changes

    made: list[str] = []
    real = codefix.patch.file_diff

    def counting(change: FileChange, context_lines: int = 3) -> bytes:
        made.append(change.path)
        return real(change, context_lines)

    monkeypatch.setattr(codefix.writer, "file_diff", counting)
    monkeypatch.setattr(codefix.patch, "file_diff", counting)
    changes = []
    for name in ("a.py", "b.py"):
        before = b"".join(b"x%d = %d\n" % (n, n) for n in range(50))
        (tmp_path / name).write_bytes(before)
        changes.append(FileChange(path=name, before=before, after=before.replace(b"x25 = 25", b"x25 = 0")))
    outcome = write_changes(tmp_path, changes, tmp_path / "run.patch")
    assert len(outcome.written) == 2 and sorted(made) == ["a.py", "b.py"]
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "-R", "run.patch"], cwd=tmp_path, check=True, capture_output=True)
    assert [(tmp_path / c.path).read_bytes() for c in changes] == [c.before for c in changes]
