"""Issue 7, interruption: `codefix apply` killed at random moments leaves no half-written file,
and a patch that describes exactly the files it changed.

Each round copies a tree of a few hundred files with a fixable finding each,
starts `codefix apply` as a real process in its own process group, and sends
it SIGINT (as Ctrl-C does, to the whole group) or SIGKILL at a random moment:
mostly while it writes (found by watching for the patch to appear), sometimes
at any moment of the run. Then, on disk:

- every file holds exactly its old bytes or exactly its new bytes;
- the patch names exactly the changed files: its committed records are the
  changed files, and after SIGKILL at most one more, pending, record may name
  the file that was in hand when the process died (its file old or new);
  after SIGINT the patch is final, with no pending record;
- `codefix revert` of that patch restores every byte of the tree;
- only SIGKILL may leave a temporary file, at most one, named `.*.codefix-tmp`.

`codefix revert` killed half-way is finished by running it again.

The random seed is printed, and can be fixed with CODEFIX_INTERRUPT_SEED.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import invoke, snapshot, write
from reliability_support import RULE, patches, read_patch, with_factory

FILES = 250
SIGINT_ROUNDS = 3
SIGKILL_ROUNDS = 3


def _module(number: int) -> str:
    padding = "".join(f"# {line}: padding, so that a torn write would show {'.' * 40}\n" for line in range(12))
    return (
        f'"""Module {number}."""\n'
        "from pkg.ws import get_websocket_manager\n\n"
        f"{padding}\n\n"
        "async def handler(ctx):\n"
        "    return await get_websocket_manager(ctx)\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("interrupt") / "template"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "many"\nversion = "0"\n')
    write(with_factory(root), {f"pkg/mod_{n:03}.py": _module(n) for n in range(FILES)})
    return root


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _start(project: Path, *args: str) -> subprocess.Popen:
    log = open(project.parent / "codefix.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "codefix", *(args or ("apply", *RULE, "."))],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
        start_new_session=True,
    )


def _wait_for_writing(project: Path, process: subprocess.Popen, timeout: float = 120) -> bool:
    """True once the patch journal exists (writing has begun), False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if patches(project):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("codefix apply did not start writing in time")


def _timed_full_run(project: Path) -> tuple[float, float]:
    """An uninterrupted apply: (seconds until writing began, seconds until the patch was final)."""
    started = time.monotonic()
    process = _start(project)
    assert _wait_for_writing(project, process)
    writing = time.monotonic()
    [patch] = patches(project)
    while b"# codefix-pending:" in patch.read_bytes():  # the journal is rewritten as the final patch at the end
        time.sleep(0.001)
    final = time.monotonic()
    assert process.wait(timeout=300) == 0, (project.parent / "codefix.log").read_text()
    return writing - started, final - writing


def _interrupt(project: Path, rng: random.Random, sig: signal.Signals, while_writing: bool, timing: tuple[float, float]) -> tuple[int, float]:
    """Run apply on `project`, send `sig` at a random moment, return (exit code, delay used)."""
    process = _start(project)
    try:
        if while_writing:
            _wait_for_writing(project, process)
            delay = rng.uniform(0, timing[1])
        else:
            delay = rng.uniform(0, sum(timing))
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"codefix did not stop within 60 s of {sig.name}") from None
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # index workers, if the signal left any
        except ProcessLookupError:
            pass
        process.wait()
    return code, delay


def _check_round(project: Path, original: dict[str, bytes], sig: signal.Signals, code: int) -> str:
    """The promises after one interruption; returns what was found, for the log."""
    log = (project.parent / "codefix.log").read_text(errors="replace")
    current = snapshot(project)
    strays = [name for name in current if name not in original]
    assert all(Path(name).name.startswith(".") and name.endswith(".codefix-tmp") for name in strays), strays
    assert len(strays) <= (1 if sig is signal.SIGKILL else 0), strays
    changed = set()
    for name, old in original.items():
        now = current[name]
        new = old.replace(b"return await get_websocket_manager", b"return get_websocket_manager")
        assert now in (old, new), f"{name} holds neither its old nor its new bytes"
        if now != old:
            changed.add(name)
    found = patches(project)
    if not found:
        assert not changed, f"{len(changed)} files changed and no patch was saved"
        return f"  0 of {FILES} files written, no patch"
    [patch] = found
    contents = read_patch(patch.read_bytes())
    for name, (before, after) in {**contents.committed, **contents.pending}.items():
        assert before == _sha(original[name]), name
        assert after == _sha(original[name].replace(b"return await", b"return")), name
    if sig is signal.SIGINT:
        assert contents.pending == {}, "after Ctrl-C the patch is final"
        assert set(contents.committed) == changed
        if changed and len(changed) < FILES:
            assert code == 130, log
    else:
        assert len(contents.pending) <= 1, contents.pending
        assert set(contents.committed) <= changed <= set(contents.committed) | set(contents.pending)
    reverted = invoke("revert", patch, cwd=project)
    assert reverted.exit_code == 0, reverted.output
    restored = snapshot(project)
    assert {k: v for k, v in restored.items() if k not in strays} == original
    return f"{len(changed):3} of {FILES} files written, {len(contents.pending)} pending record(s), {len(strays)} temporary file(s), reverted"


@pytest.mark.slow
def test_apply_interrupted_at_random_moments_never_leaves_a_mixed_file(template: Path, tmp_path: Path):
    seed = int(os.environ.get("CODEFIX_INTERRUPT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"\ninterruption rounds, seed {seed}:")
    original = snapshot(template)
    # A full run first: it times the phases the random moments are drawn from, and it must fix every file.
    full = tmp_path / "full" / "project"
    shutil.copytree(template, full)
    timing = _timed_full_run(full)
    print(f"  uninterrupted: {timing[0]:.2f} s of analysis, then {timing[1]:.3f} s of writing")
    assert all(v.count(b"await ") == 0 for k, v in snapshot(full).items() if k.startswith("pkg/mod_"))
    reverted = _kill_revert(full, original, rng)
    [patch] = patches(full)
    again = invoke("revert", patch, cwd=full)
    if reverted < FILES:
        assert again.exit_code == 0, again.output
    else:  # the kill came after the last file: running revert again is reverting twice, refused
        assert again.exit_code == 1 and "already holds its bytes from before the patch" in again.stderr, again.output
    assert {k: v for k, v in snapshot(full).items() if not k.endswith(".codefix-tmp")} == original
    print(f"  revert SIGKILLed after {reverted} of {FILES} files; run again: tree restored")
    plan = [(signal.SIGINT, True)] * (SIGINT_ROUNDS - 1) + [(signal.SIGINT, False)]
    plan += [(signal.SIGKILL, True)] * (SIGKILL_ROUNDS - 1) + [(signal.SIGKILL, False)]
    for number, (sig, while_writing) in enumerate(plan):
        project = tmp_path / f"round{number}" / "project"
        shutil.copytree(template, project)
        code, delay = _interrupt(project, rng, sig, while_writing, timing)
        found = _check_round(project, original, sig, code)
        moment = "after writing began" if while_writing else "after start"
        print(f"  {sig.name:7} {delay:6.3f} s {moment:19}: exit {code:4}, {found}")


def _snapshot_while_written(root: Path) -> dict[str, bytes]:
    """`snapshot` of a tree another process is writing: its temporary file may be renamed between listing and reading."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if {".codefix", ".codefix_cache", ".git", "__pycache__"} & set(path.relative_to(root).parts):
            continue
        try:
            if path.is_file():
                files[name] = path.read_bytes()
        except FileNotFoundError:
            continue
    return files


def _kill_revert(project: Path, original: dict[str, bytes], rng: random.Random) -> int:
    """SIGKILL `codefix revert` of the project's patch at a random moment; check the files; how many were reverted."""
    [patch] = patches(project)
    applied = snapshot(project)
    process = _start(project, "revert", str(patch))
    started = time.monotonic()
    while process.poll() is None and _snapshot_while_written(project) == applied and time.monotonic() - started < 120:
        time.sleep(0.001)  # until the first file is reverted
    time.sleep(rng.uniform(0, 0.1))
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    now = snapshot(project)
    strays = [name for name in now if name not in applied]
    assert len(strays) <= 1 and all(name.endswith(".codefix-tmp") for name in strays), strays
    for name in applied:
        assert now[name] in (applied[name], original[name]), f"{name} holds neither its patched nor its original bytes"
    return sum(now[name] != applied[name] for name in applied)


def test_revert_of_a_journal_cut_at_any_byte_restores_the_tree(tmp_path: Path):
    """Every state a kill can leave, byte by byte: the journal cut anywhere, the files as the protocol allows.

    A file is replaced only once its pending record is on disk, and its
    commit line is appended only after the rename; so for a cut journal,
    committed records' files hold new bytes, the last complete record without
    a commit line may hold either, and all other files hold old bytes.
    """
    from codefix.patch import file_line, journal_header, pending_record, revert
    from codefix.types import FileChange

    originals = {f"pkg/m{n}.py": _module(n).encode() for n in range(3)}
    changes = [FileChange(path, old, old.replace(b"return await", b"return")) for path, old in originals.items()]
    ends = []  # (offset where the record is complete, offset where its commit line ends)
    journal = journal_header("await-websocket")
    for change in changes:
        journal += pending_record(change)
        ends.append(len(journal))
        journal += file_line(change)
        ends.append(len(journal))
    checked = 0
    # The journal comes into existence atomically with its first complete record.
    for cut in range(ends[0], len(journal) + 1):
        data = journal[:cut]
        for in_hand_written in (False, True):
            root = tmp_path / "project"
            for number, change in enumerate(changes):
                record_done, commit_done = ends[2 * number], ends[2 * number + 1]
                written = cut >= commit_done or (cut >= record_done and in_hand_written)
                write(root, {change.path: change.after if written else change.before})
            revert(root, data)
            assert {p: (root / p).read_bytes() for p in originals} == originals, (cut, in_hand_written)
            checked += 1
    print(f"\njournal cut at {checked // 2} positions, both outcomes of the file in hand: tree restored each time")
