"""The pre-commit hooks, run by the real `pre-commit` tool against this checkout's `.pre-commit-hooks.yaml`.

pre-commit installs a hook repository from a git revision, so the checkout
(as it is on disk, uncommitted edits included) is copied into a temporary
repository and committed there; `pre-commit try-repo` would do the same but
leaves out untracked files and builds a fresh environment on every call.
pre-commit builds one virtual environment for it (pip-installing codefix and
its dependencies), kept in a `PRE_COMMIT_HOME` shared by the module's tests.

Each test is a user's repository with a `.pre-commit-config.yaml` pointing at
that copy, and runs `pre-commit run HOOK` as `git commit` would: on the
staged files only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import git, write

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]

FACTORY = "class Manager:\n    pass\n\n\ndef get_websocket_manager(ctx=None):\n    return Manager()\n"
BUGGY = "from app.ws import get_websocket_manager\n\n\nasync def handler(ctx):\n    manager = await get_websocket_manager(ctx)\n    return manager\n"
FIXED = BUGGY.replace("await ", "")
PYPROJECT = '[project]\nname = "service"\nversion = "0"\n\n[tool.codefix]\nextend-exclude = ["generated"]\n'

#: Seconds each pre-commit call took, printed at the end of the module (`-s` or `-rA` shows it).
TIMINGS: list[tuple[str, float]] = []


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this checkout's installable files, committed: (path, revision)."""
    repo = tmp_path_factory.mktemp("codefix-hooks")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(CHECKOUT / name, repo / name)
    shutil.copytree(CHECKOUT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "codefix under test", cwd=repo)
    return repo, git("rev-parse", "HEAD", cwd=repo).stdout.strip()


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    yield home
    if TIMINGS:
        print("\npre-commit timings: " + ", ".join(f"{label} {seconds:.1f}s" for label, seconds in TIMINGS))


@pytest.fixture
def user_repo(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    """A user's project with codefix's two hooks configured and an initial commit."""
    path, revision = hook_repo
    repo = tmp_path / "service"
    config = (
        "repos:\n"
        f"  - repo: {path}\n"
        f"    rev: {revision}\n"
        "    hooks:\n"
        "      - id: codefix\n"
        "      - id: codefix-fix\n"
    )
    write(repo, {".pre-commit-config.yaml": config, "pyproject.toml": PYPROJECT, "app/__init__.py": "", "app/ws.py": FACTORY})
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "start", cwd=repo)
    return repo


def pre_commit(repo: Path, home: Path, *args: str, label: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit ARGS` in `repo`, as a developer's shell runs it (no GIT_* variables of an outer hook)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(PRE_COMMIT_HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    TIMINGS.append((label, time.monotonic() - started))
    return completed


def test_the_manifest_is_valid_for_pre_commit():
    completed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(CHECKOUT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_codefix_hook_fails_on_a_staged_bug_and_passes_once_it_is_fixed(user_repo: Path, pre_commit_home: Path):
    # Committed earlier and not staged now: not the hook's business.
    write(user_repo, {"app/legacy.py": BUGGY})
    git("add", "-A", cwd=user_repo)
    git("commit", "-q", "-m", "legacy", cwd=user_repo)
    # Staged: the bug, the same bug in an excluded folder, and a pyproject.toml change.
    write(user_repo, {"app/handlers.py": BUGGY, "generated/client.py": BUGGY})
    (user_repo / "pyproject.toml").write_text(PYPROJECT + "# touched\n")
    git("add", "-A", cwd=user_repo)

    failed = pre_commit(user_repo, pre_commit_home, "run", "codefix", label="codefix (first, builds the env)")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "app/handlers.py:5:15: await-websocket `get_websocket_manager` is synchronous (app/ws.py:5)" in output
    assert "app/legacy.py" not in output  # not staged
    assert "generated/client.py" not in output  # excluded, although pre-commit named it
    assert "codefix: error" not in output and "Traceback" not in output  # pyproject.toml was named too

    (user_repo / "app/handlers.py").write_text(FIXED)
    git("add", "app/handlers.py", cwd=user_repo)
    passed = pre_commit(user_repo, pre_commit_home, "run", "codefix", label="codefix (second)")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (user_repo / "app/handlers.py").read_text() == FIXED


def test_codefix_fix_hook_rewrites_the_staged_file_fails_then_passes(user_repo: Path, pre_commit_home: Path):
    write(user_repo, {"app/handlers.py": BUGGY})
    git("add", "-A", cwd=user_repo)

    first = pre_commit(user_repo, pre_commit_home, "run", "codefix-fix", label="codefix-fix (first)")
    output = first.stdout + first.stderr
    assert first.returncode == 1, output
    assert "files were modified by this hook" in output
    assert (user_repo / "app/handlers.py").read_text() == FIXED
    assert git("diff", "--name-only", cwd=user_repo).stdout.split() == ["app/handlers.py"]

    git("add", "app/handlers.py", cwd=user_repo)
    second = pre_commit(user_repo, pre_commit_home, "run", "codefix-fix", label="codefix-fix (second)")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (user_repo / "app/handlers.py").read_text() == FIXED
    assert git("diff", "--name-only", cwd=user_repo).stdout == ""


MARKED = "import pytest\n\n\n@pytest.mark.slow\ndef test_big():\n    pass\n"
REGISTERED = '\n[tool.pytest.ini_options]\nmarkers = ["slow: long tests"]\n'


def test_a_staged_marker_list_change_is_checked_against_the_tests_it_governs(user_repo: Path, pre_commit_home: Path):
    write(user_repo, {"tests/test_big.py": MARKED})
    (user_repo / "pyproject.toml").write_text(PYPROJECT + REGISTERED)
    git("add", "-A", cwd=user_repo)
    git("commit", "-q", "-m", "tests", cwd=user_repo)
    # Only pyproject.toml is staged: it drops the registration the committed test relies on.
    (user_repo / "pyproject.toml").write_text(PYPROJECT + REGISTERED.replace('"slow: long tests"', ""))
    git("add", "pyproject.toml", cwd=user_repo)

    failed = pre_commit(user_repo, pre_commit_home, "run", "codefix", label="codefix (marker list)")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "tests/test_big.py:4:" in output and "pytest-markers" in output

    fixed = pre_commit(user_repo, pre_commit_home, "run", "codefix-fix", label="codefix-fix (marker list)")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert '"slow: TODO: describe"' in (user_repo / "pyproject.toml").read_text()
    git("add", "pyproject.toml", cwd=user_repo)
    assert pre_commit(user_repo, pre_commit_home, "run", "codefix", label="codefix (marker list fixed)").returncode == 0
