"""Reading `[tool.codefix]`: its keys, `--rule selected`, `codefix config`; bad input is one error naming the file and key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from codefix.config import load_config, parse_table, select_rules
from codefix.rules import ALL_RULES, RULES_BY_ID, ConfigurationError
from conftest import FACTORY_WITH_SETTINGS, USE_WITH_SETTINGS, invoke, snapshot, write


@pytest.mark.parametrize(
    ("content", "mention"),
    [
        (b"[tool.codefix]\n# \xff\xfe\n", "not UTF-8"),
        (b"[tool.codefix\n", "invalid TOML"),
        (b"[tool.codefix.no-such-rule]\n", "tool.codefix.no-such-rule"),
        (b"[tool]\ncodefix = 3\n", "tool.codefix must be a table"),
    ],
)
def test_bad_configuration_is_one_error_naming_the_file(tmp_path, content, mention):
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(ConfigurationError) as raised:
        load_config(tmp_path)
    message = str(raised.value)
    assert "pyproject.toml" in message and mention in message
    assert "\n" not in message


# --- top-level keys of [tool.codefix] -----------------------------------------------------------

FACTORY = FACTORY_WITH_SETTINGS
USE = USE_WITH_SETTINGS


def with_config(project: Path, table: str) -> Path:
    (project / "pyproject.toml").write_text(f'[project]\nname = "example"\nversion = "0"\n\n[tool.codefix]\n{table}\n')
    return write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": USE})


def rules_reported(project: Path, *args: str) -> set[str]:
    result = invoke("scan", "--format", "json", *args, cwd=project)
    assert result.exit_code in (0, 1), result.output
    return {finding["rule"] for finding in json.loads(result.stdout)["findings"]}


@pytest.mark.parametrize(
    ("table", "mention"),
    [
        ('select = "await-sync"', "tool.codefix.select must be a list of non-empty strings"),
        ('select = ["await-sinc"]', "tool.codefix.select: unknown rule 'await-sinc' (did you mean 'await-sync'?)"),
        ("ignore = [1]", "tool.codefix.ignore must be a list of non-empty strings"),
        ('exclude = "build"', "tool.codefix.exclude must be a list of non-empty strings"),
        ('extend-exclude = [""]', "tool.codefix.extend-exclude must be a list of non-empty strings"),
        ('respect-gitignore = "yes"', "tool.codefix.respect-gitignore must be true or false"),
        ("force-exclude = 1", "tool.codefix.force-exclude must be true or false"),
        ("cache-dir = []", "tool.codefix.cache-dir must be a folder path (a non-empty string)"),
        ("respect_gitignore = false", "unknown key tool.codefix.respect_gitignore (did you mean 'respect-gitignore'?)"),
        ("extend_exclude = []", "unknown key tool.codefix.extend_exclude (did you mean 'extend-exclude'?)"),
        ("colour = true", "unknown key tool.codefix.colour"),
        ("await-sync = 1", "tool.codefix.await-sync must be a table"),
    ],
)
def test_a_bad_top_level_key_is_one_error_line_exit_2_and_nothing_written(project: Path, table: str, mention: str):
    with_config(project, table)
    before = snapshot(project)
    for command in (["scan"], ["apply", "--rule", "selected"], ["config"]):
        result = invoke(*command, cwd=project)
        assert result.exit_code == 2, (command, result.output)
        lines = result.stderr.strip().splitlines()
        assert lines == [f"codefix: error: {project.resolve() / 'pyproject.toml'}: {mention}"], result.stderr
        assert "Traceback" not in result.output
    assert snapshot(project) == before
    assert not (project / ".codefix").exists()


def test_the_hint_is_left_out_when_no_key_is_near(project: Path):
    with_config(project, "colour = true")
    assert "did you mean" not in invoke("scan", cwd=project).stderr


def test_select_replaces_the_default_set(project: Path):
    with_config(project, 'select = ["await-sync"]')
    assert rules_reported(project) == {"await-sync"}


def test_ignore_removes_rules_from_the_default_set(project: Path):
    with_config(project, "")
    assert rules_reported(project) == {"await-websocket", "await-sync"}
    with_config(project, 'ignore = ["await-sync"]')
    assert rules_reported(project) == {"await-websocket"}


def test_ignore_applies_after_select(project: Path):
    with_config(project, 'select = ["await-sync", "await-websocket"]\nignore = ["await-websocket"]')
    assert rules_reported(project) == {"await-sync"}


def test_rule_on_the_command_line_overrides_select_and_ignore(project: Path):
    with_config(project, 'select = ["await-sync"]\nignore = ["await-websocket"]')
    assert rules_reported(project, "--rule", "await-websocket") == {"await-websocket"}


def test_rule_selected_is_the_configured_selection_and_combines_with_ids(project: Path):
    with_config(project, 'select = ["await-sync"]')
    assert rules_reported(project, "--rule", "selected") == {"await-sync"}
    assert rules_reported(project, "--rule", "selected", "--rule", "await-websocket") == {"await-sync", "await-websocket"}


def test_rule_selected_without_configuration_means_the_rules_on_by_default():
    chosen = select_rules(parse_table(Path("codefix.toml"), {}), ["selected"])
    assert [rule.id for rule in chosen] == [rule.id for rule in ALL_RULES if rule.default_enabled]


def test_apply_rule_selected_fixes_what_the_configuration_selects(project: Path):
    with_config(project, 'select = ["await-websocket"]')
    result = invoke("apply", "--rule", "selected", cwd=project)
    assert result.exit_code == 0, result.output  # no finding of a selected rule is left
    text = (project / "pkg/use.py").read_text()
    assert "return get_websocket_manager(ctx)" in text
    assert "settings = await load_settings()" in text  # await-sync is not selected


def test_apply_without_rule_still_refuses_and_names_the_reserved_value(project: Path):
    with_config(project, "")
    result = invoke("apply", cwd=project)
    assert result.exit_code == 2
    assert "--rule selected" in result.stderr
    assert "return await" in (project / "pkg/use.py").read_text()


def test_an_unknown_rule_on_the_command_line_suggests_the_near_miss(project: Path):
    with_config(project, "")
    result = invoke("scan", "--rule", "await-sinc", cwd=project)
    assert result.exit_code == 2
    assert "unknown rule 'await-sinc' (did you mean 'await-sync'?)" in result.stderr


# --- codefix config -----------------------------------------------------------------------------


def test_config_prints_the_effective_configuration_as_toml_with_origins(project: Path):
    with_config(project, 'ignore = ["await-sync"]\n\n[tool.codefix.await-websocket]\nfunctions = ["make_manager"]')
    result = invoke("config", cwd=project)
    assert result.exit_code == 0, result.output
    parsed = tomllib.loads(result.stdout)["tool"]["codefix"]
    defaults = [rule.id for rule in ALL_RULES if rule.default_enabled]
    assert parsed["select"] == defaults
    assert parsed["ignore"] == ["await-sync"]
    assert parsed["respect-gitignore"] is True and parsed["force-exclude"] is False
    assert parsed["cache-dir"] == ".codefix_cache"
    assert "node_modules" in parsed["exclude"] and parsed["extend-exclude"] == []
    assert parsed["await-websocket"]["functions"] == ["make_manager"]
    assert parsed["clickhouse-async"]["async_methods"] == RULES_BY_ID["clickhouse-async"].options["async_methods"]
    source = str(project.resolve() / "pyproject.toml")
    lines = result.stdout.splitlines()
    assert next(line for line in lines if line.startswith("ignore")).endswith(f"# from {source}")
    assert next(line for line in lines if line.startswith("functions")).endswith(f"# from {source}")
    assert next(line for line in lines if line.startswith("select")).endswith("# default")
    assert f"configuration file: {source}" in result.stdout
    ran = next(line for line in lines if "bare `scan` run" in line)
    assert "await-sync" not in ran and "await-websocket" in ran


def test_config_output_fed_back_as_a_config_file_gives_the_same_configuration(project: Path, tmp_path: Path):
    with_config(project, 'select = ["await-sync", "pytest-markers"]\nextend-exclude = ["gen"]\ncache-dir = "var/cache"')
    first = invoke("config", cwd=project).stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text(first)
    second = invoke("config", cwd=elsewhere).stdout
    strip = lambda text: tomllib.loads(text)  # noqa: E731 - comments (origins) differ, values must not
    assert strip(first) == strip(second)


def test_config_without_any_file_prints_the_defaults(project: Path):
    result = invoke("config", cwd=project)
    assert result.exit_code == 0
    assert "configuration file: none (all defaults)" in result.stdout
    assert "# from" not in result.stdout
