"""Configuration: defaults, then `[tool.codefix]` of the project's pyproject.toml, then flags.

Only read here (with `tomllib`); a bad key is one `ConfigurationError` whose
text names the file and the key, which the CLI prints as one line, exit 2.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codefix.rules import ALL_RULES, RULES_BY_ID, ConfigurationError, Rule


@dataclass(frozen=True)
class Config:
    #: The file the settings came from, None when the project has none.
    source: Path | None = None
    #: `[tool.codefix.<rule-id>]` tables, validated.
    rule_settings: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_config(root: Path) -> Config:
    path = root / "pyproject.toml"
    if not path.is_file():
        return Config()
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: invalid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    table = document.get("tool", {}).get("codefix", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: tool.codefix must be a table")
    rule_settings: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        rule = RULES_BY_ID.get(key)
        if rule is None:
            raise ConfigurationError(f"{path}: unknown key tool.codefix.{key}")
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path}: tool.codefix.{key} must be a table")
        rule_settings[key] = rule.validate_settings(value, str(path))
    return Config(source=path, rule_settings=rule_settings)


def select_rules(config: Config, requested: Sequence[str], flags: frozenset[str] = frozenset()) -> list[Rule]:
    """Instantiate the rules asked for by `--rule`, or the default ones."""
    unknown = [rule_id for rule_id in requested if rule_id not in RULES_BY_ID]
    if unknown:
        known = ", ".join(RULES_BY_ID)
        raise ConfigurationError(f"unknown rule {unknown[0]!r} (known rules: {known})")
    if requested:
        chosen = [RULES_BY_ID[rule_id] for rule_id in dict.fromkeys(requested)]
    else:
        chosen = [rule for rule in ALL_RULES if rule.default_enabled]
    return [rule(config.rule_settings.get(rule.id), flags) for rule in chosen]
