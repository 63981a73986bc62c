"""Which configuration governs a run, and what it excludes.

The oracle for `exclude`/`extend-exclude` is git itself: the same patterns
written to a `.gitignore` must skip exactly the files git ignores, since the
README promises gitignore-style globs. The other tests each pin one decision
the README documents (where the search for a configuration file stops,
`--config`, `force-exclude`, `cache-dir`, files named as pre-commit names
them).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codefix.index_cache import IndexCache
from conftest import git, invoke, write

FACTORY = "def get_websocket_manager(ctx=None):\n    return object()\n\n\ndef load_settings():\n    return {}\n"
USE = "from pkg.ws import get_websocket_manager\n\n\nasync def handler(ctx):\n    return await get_websocket_manager(ctx)\n"
SYNC_USE = "from pkg.ws import load_settings\n\n\nasync def start():\n    return await load_settings()\n"
PROJECT = '[project]\nname = "example"\nversion = "0"\n'


def scan(cwd: Path, *args: str | Path) -> tuple[int, list[tuple[str, str]]]:
    """Exit code and (rule, path) of every finding of `codefix scan --format json ARGS`."""
    result = invoke("scan", "--format", "json", *args, cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    return result.exit_code, sorted((finding["rule"], finding["path"]) for finding in findings)


def paths_reported(cwd: Path, *args: str | Path) -> list[str]:
    return sorted({path for _, path in scan(cwd, *args)[1]})


def rules_reported(cwd: Path, *args: str | Path) -> set[str]:
    return {rule for rule, _ in scan(cwd, *args)[1]}


def package(root: Path) -> Path:
    return write(root, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": USE, "pkg/start.py": SYNC_USE})


# --- which file --------------------------------------------------------------------------------


def test_a_monorepo_root_configuration_governs_a_sub_project_without_its_own(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo, {"pyproject.toml": '[tool.codefix]\nignore = ["await-sync"]\n', "services/api/pyproject.toml": PROJECT})
    git("init", "-q", cwd=repo)
    api = package(repo / "services/api")
    # The project root is still the sub-project: paths are relative to it.
    assert scan(api) == (1, [("await-websocket", "pkg/use.py")])
    assert scan(repo, "services/api") == (1, [("await-websocket", "pkg/use.py")])


def test_the_nearest_configuration_wins(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo, {"pyproject.toml": '[tool.codefix]\nignore = ["await-sync"]\n'})
    git("init", "-q", cwd=repo)
    api = package(repo / "services/api")
    (api / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nignore = ["await-websocket"]\n')
    assert rules_reported(api) == {"await-sync"}


def test_the_search_stops_at_the_top_of_the_git_work_tree(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.codefix]\nselect = ["pytest-markers"]\n')
    repo = package(tmp_path / "repo")
    (repo / "pyproject.toml").write_text(PROJECT)
    git("init", "-q", cwd=repo)
    assert rules_reported(repo) == {"await-websocket", "await-sync"}


def test_outside_git_the_search_stops_at_the_project_root(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.codefix]\nselect = ["pytest-markers"]\n')
    project = package(tmp_path / "project")
    (project / "pyproject.toml").write_text(PROJECT)
    assert rules_reported(project) == {"await-websocket", "await-sync"}


def test_the_search_starts_at_the_first_path(tmp_path: Path):
    project = package(tmp_path / "project")
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nignore = ["await-sync"]\n')
    assert rules_reported(tmp_path, "project") == {"await-websocket"}
    assert rules_reported(tmp_path, "project/pkg/start.py", "project/pkg/use.py") == {"await-websocket"}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"codefix.toml": 'ignore = ["await-sync"]\n'}, {"await-websocket"}),
        ({".codefix.toml": 'ignore = ["await-sync"]\n'}, {"await-websocket"}),
        (
            {".codefix.toml": 'ignore = ["await-sync"]\n', "codefix.toml": 'ignore = ["await-websocket"]\n'},
            {"await-websocket"},
        ),
        ({"codefix.toml": 'ignore = ["await-sync"]\n', "pyproject.toml": PROJECT + '[tool.codefix]\nignore = ["await-websocket"]\n'}, {"await-websocket"}),
    ],
)
def test_codefix_toml_holds_top_level_keys_and_comes_before_pyproject_toml(project: Path, files, expected):
    write(package(project), files)
    assert rules_reported(project) == expected


def test_config_option_overrides_discovery_with_a_pyproject_or_a_codefix_toml(project: Path, tmp_path: Path):
    package(project)
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nignore = ["await-sync"]\n')
    other = write(tmp_path / "shared", {"pyproject.toml": '[tool.codefix]\nignore = ["await-websocket"]\n', "strict.toml": 'select = ["await-sync", "await-websocket"]\n'})
    assert rules_reported(project) == {"await-websocket"}
    assert rules_reported(project, "--config", other / "pyproject.toml") == {"await-sync"}
    assert rules_reported(project, "--config", other / "strict.toml") == {"await-sync", "await-websocket"}
    shown = invoke("config", "--config", other / "strict.toml", cwd=project)
    assert shown.exit_code == 0 and f"configuration file: {other.resolve() / 'strict.toml'}" in shown.stdout


def test_a_missing_config_file_is_one_error_line(project: Path):
    package(project)
    for command in ("scan", "config"):
        result = invoke(command, "--config", "nowhere.toml", cwd=project)
        assert result.exit_code == 2
        assert result.stderr.strip().splitlines() == ["codefix: error: nowhere.toml: no such configuration file"]


def test_a_codefix_toml_with_a_tool_table_gets_a_hint(project: Path):
    write(package(project), {"codefix.toml": '[tool.codefix]\nignore = ["await-sync"]\n'})
    result = invoke("scan", cwd=project)
    assert result.exit_code == 2
    assert "unknown key tool (in codefix.toml the settings are top-level keys" in result.stderr


# --- exclude and extend-exclude -----------------------------------------------------------------

LAYOUT = [
    "pkg/use.py",
    "pkg/gen/client.py",
    "gen/top.py",
    "pkg/api_pb2.py",
    "pkg/deep/er/api_pb2.py",
    "docs/conf.py",
    "docs/examples/ex.py",
    "tests/data/sample.py",
    "tests/test_use.py",
    "scripts/tool.py",
]


@pytest.mark.parametrize(
    "patterns",
    [
        ["gen"],
        ["gen", "data", "*.egg-info"],
        ["/gen/"],
        ["gen/"],
        ["*_pb2.py"],
        ["docs/*", "!docs/conf.py"],
        ["**/data/**"],
        ["tests/data", "scripts/tool.py"],
        ["pkg/**/api_pb2.py"],
        ["*.py", "!pkg/", "!pkg/*.py"],
    ],
)
def test_exclude_patterns_skip_exactly_what_git_would_ignore(tmp_path: Path, patterns: list[str]):
    ours = package(tmp_path / "ours")
    write(ours, {name: USE for name in LAYOUT})
    (ours / "pyproject.toml").write_text(PROJECT + f"\n[tool.codefix]\nexclude = {json.dumps(patterns)}\nselect = ['await-websocket']\n")
    oracle = tmp_path / "oracle"
    shutil.copytree(ours, oracle)
    (oracle / ".gitignore").write_text("\n".join(patterns) + "\n")
    git("init", "-q", cwd=oracle)
    listed = git("ls-files", "--others", "--exclude-standard", "--", "*.py", cwd=oracle).stdout.split()
    expected = sorted(name for name in listed if name in LAYOUT)
    assert paths_reported(ours) == expected


def test_exclude_replaces_the_built_in_list_and_extend_exclude_adds_to_it(project: Path):
    write(package(project), {".venv/lib/site.py": USE, "build/lib/copy.py": USE, "generated/out.py": USE})
    assert paths_reported(project) == ["generated/out.py", "pkg/start.py", "pkg/use.py"]
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nexclude = ["build"]\n')
    assert paths_reported(project) == [".venv/lib/site.py", "generated/out.py", "pkg/start.py", "pkg/use.py"]
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nextend-exclude = ["generated/"]\n')
    assert paths_reported(project) == ["pkg/start.py", "pkg/use.py"]


def test_exclude_patterns_are_relative_to_the_configuration_file(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo, {"pyproject.toml": '[tool.codefix]\nextend-exclude = ["/services/api/pkg/start.py"]\n'})
    git("init", "-q", cwd=repo)
    api = package(repo / "services/api")
    (api / "pyproject.toml").write_text(PROJECT)
    assert paths_reported(api) == ["pkg/use.py"]


def test_excluded_folders_are_left_out_of_the_index_too(project: Path):
    write(package(project), {"vendor/lib.py": FACTORY})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nextend-exclude = ["vendor"]\n')
    assert invoke("scan", cwd=project).exit_code == 1
    indexed = set(IndexCache(project))
    assert "pkg/use.py" in indexed and "vendor/lib.py" not in indexed


# --- files named on the command line --------------------------------------------------------------


def test_a_named_excluded_file_is_checked_unless_force_exclude(project: Path):
    write(package(project), {"gen/client.py": USE})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nextend-exclude = ["gen"]\n')
    assert paths_reported(project) == ["pkg/start.py", "pkg/use.py"]
    assert paths_reported(project, "gen/client.py") == ["gen/client.py"]
    assert scan(project, "--force-exclude", "gen/client.py") == (0, [])
    assert scan(project, "--force-exclude", "gen") == (0, [])
    assert paths_reported(project, "--force-exclude", "gen/client.py", "pkg/use.py") == ["pkg/use.py"]


def test_force_exclude_in_the_configuration_and_its_flag_override(project: Path):
    write(package(project), {"gen/client.py": USE})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nextend-exclude = ["gen"]\nforce-exclude = true\n')
    assert scan(project, "gen/client.py") == (0, [])
    assert paths_reported(project, "--no-force-exclude", "gen/client.py") == ["gen/client.py"]


def test_force_exclude_keeps_apply_off_excluded_files(project: Path):
    write(package(project), {"gen/client.py": USE})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\nextend-exclude = ["gen"]\n')
    result = invoke("apply", "--rule", "selected", "--force-exclude", "gen/client.py", "pkg/use.py", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "gen/client.py").read_text() == USE
    assert "await" not in (project / "pkg/use.py").read_text()


def test_a_single_named_file_is_resolved_against_the_whole_project(project: Path):
    package(project)
    # Only use.py is named; the definition in ws.py is still found, and start.py's bug is not reported.
    assert scan(project, "pkg/use.py") == (1, [("await-websocket", "pkg/use.py")])
    assert scan(project / "pkg", "use.py") == (1, [("await-websocket", "pkg/use.py")])


MARKED = "import pytest\n\n\n@pytest.mark.slow\ndef test_it():\n    pass\n"


def test_a_named_pytest_configuration_makes_the_marker_rule_check_the_tests_it_governs(project: Path):
    package(project)
    write(project, {"tests/test_it.py": MARKED, "tests/unit/test_more.py": MARKED.replace("slow", "smoke")})
    write(project, {"sub/pytest.ini": "[pytest]\nmarkers =\n    smoke: quick\n", "sub/test_sub.py": MARKED.replace("slow", "fast")})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.pytest.ini_options]\nmarkers = ["smoke: quick"]\n')
    code, findings = scan(project, "pyproject.toml")
    # The tests the root file governs are checked; sub/ is governed by its own pytest.ini,
    # and the await bugs of files not named stay unreported.
    assert (code, findings) == (1, [("pytest-markers", "tests/test_it.py")])
    assert scan(project, "sub/pytest.ini") == (1, [("pytest-markers", "sub/test_sub.py")])


def test_named_files_that_are_not_python_are_not_an_error(project: Path):
    package(project)
    write(project, {"README.md": "# hi\n", "setup.cfg": "[metadata]\nname = x\n"})
    assert scan(project, "README.md", "setup.cfg", "pyproject.toml") == (0, [])


def test_apply_on_a_named_configuration_registers_the_markers_its_tests_use(project: Path):
    write(project, {"tests/test_it.py": MARKED})
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.pytest.ini_options]\nmarkers = []\n')
    result = invoke("apply", "--rule", "selected", "pyproject.toml", cwd=project)
    assert result.exit_code == 0, result.output
    assert '"slow: TODO: describe"' in (project / "pyproject.toml").read_text()
    assert scan(project) == (0, [])


# --- respect-gitignore and cache-dir --------------------------------------------------------------


def test_respect_gitignore_false_checks_what_git_ignores(project: Path):
    write(package(project), {".gitignore": "generated/\n", "generated/client.py": USE})
    git("init", "-q", cwd=project)
    assert "generated/client.py" not in paths_reported(project)
    (project / "pyproject.toml").write_text(PROJECT + "\n[tool.codefix]\nrespect-gitignore = false\n")
    assert "generated/client.py" in paths_reported(project)


def test_cache_dir_is_relative_to_the_project_root(project: Path):
    package(project)
    (project / "pyproject.toml").write_text(PROJECT + '\n[tool.codefix]\ncache-dir = "var/cache/codefix"\n')
    assert invoke("scan", "pkg", cwd=project).exit_code == 1
    assert not (project / ".codefix_cache").exists()
    assert not (project / "pkg/var").exists()
    files = sorted(p.name for p in (project / "var/cache/codefix").iterdir())
    assert files[0] == ".gitignore" and files[1].startswith("index-") and files[2].startswith("results-")
    assert files[3].startswith("words-")
    assert len(files) == 4


def test_an_absolute_cache_dir_is_used_as_it_is(project: Path, tmp_path: Path):
    package(project)
    cache = tmp_path / "caches" / "codefix"
    (project / "pyproject.toml").write_text(PROJECT + f'\n[tool.codefix]\ncache-dir = "{cache}"\n')
    assert invoke("scan", cwd=project).exit_code == 1
    assert not (project / ".codefix_cache").exists()
    assert any(cache.glob("index-*.json"))
