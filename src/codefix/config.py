"""Configuration: defaults, then `[tool.codefix]` (or a `codefix.toml`), then flags.

Which file: `--config FILE` when given; otherwise, from the first PATH
upward, the nearest `.codefix.toml`, `codefix.toml`, or `pyproject.toml`
holding a `[tool.codefix]` table (checked in that order in each folder).
The climb stops at the top of the git work tree (the first folder holding
`.git`), so a monorepo's root configuration governs its sub-projects even
when each has its own `pyproject.toml`, and never reaches past the
repository; outside git it stops at the project root. The project root
itself (where reports, patches and the index cache are anchored) is still
the one `find_project_root` picks: the configuration only decides what runs
and what is skipped. In a `pyproject.toml` the settings live under
`[tool.codefix]`; any other file has them at its top level, as ruff's
`ruff.toml` does.

Only read here (with `tomllib`); a bad key is one `ConfigurationError` whose
text names the file and the key, which the CLI prints as one line, exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codefix.config_files import codefix_table, find_config_file, read_toml
from codefix.config_keys import DEFAULTS, check_key, did_you_mean
from codefix.discovery import Exclusion
from codefix.rules import ALL_RULES, RULES_BY_ID, ConfigurationError, Rule

#: `--rule selected` stands for the rules the configuration selects.
SELECTED = "selected"


@dataclass(frozen=True)
class Config:
    #: The file the settings came from, None when the project has none.
    source: Path | None = None
    #: `[tool.codefix.<rule-id>]` tables, validated.
    rule_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The top-level keys, validated, with the defaults for those not set (see `config_keys.DEFAULTS`).
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    #: The top-level keys the file set; the others are defaults.
    explicit: frozenset[str] = frozenset()

    def selected_rules(self) -> list[type[Rule]]:
        """`select` (else the rules on by default) less `ignore`, in the registry's order."""
        select = self.settings["select"]
        wanted = set(select) if select is not None else {rule.id for rule in ALL_RULES if rule.default_enabled}
        wanted -= set(self.settings["ignore"])
        return [rule for rule in ALL_RULES if rule.id in wanted]

    def exclusion(self, root: Path, force: bool | None = None) -> Exclusion:
        """What walks skip; `force` (the `--force-exclude` flag) overrides `force-exclude` when given."""
        base = self.source.parent if self.source is not None else root
        patterns = (*self.settings["exclude"], *self.settings["extend-exclude"])
        force = self.settings["force-exclude"] if force is None else force
        return Exclusion(base, patterns, self.settings["respect-gitignore"], force)

    def cache_dir(self, root: Path) -> Path:
        """`cache-dir`, relative to the project root unless absolute."""
        return root / os.path.expanduser(self.settings["cache-dir"])


def load_config(root: Path, start: Path | None = None, config_file: Path | None = None) -> Config:
    """The configuration for a run on `start` (default: the root), or from `config_file` when given."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigurationError(f"{config_file}: no such configuration file")
        path: Path | None = config_file.resolve()
    else:
        path = find_config_file(start if start is not None else root, root)
    if path is None:
        return Config()
    table = codefix_table(path, read_toml(path))
    return parse_table(path, table or {})


def parse_table(path: Path, table: dict[str, Any]) -> Config:
    """Validate a settings table (from `path`) into a Config."""
    prefix = "tool.codefix." if path.name == "pyproject.toml" else ""
    settings = dict(DEFAULTS)
    rule_settings: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if key in DEFAULTS:
            settings[key] = check_key(key, value, f"{path}: {prefix}{key}")
            continue
        rule = RULES_BY_ID.get(key)
        if rule is None:
            hint = did_you_mean(key, [*DEFAULTS, *RULES_BY_ID])
            if not prefix and key == "tool":
                hint = f" (in {path.name} the settings are top-level keys, not under [tool.codefix])"
            raise ConfigurationError(f"{path}: unknown key {prefix}{key}{hint}")
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path}: {prefix}{key} must be a table")
        rule_settings[key] = rule.validate_settings(value, str(path))
    return Config(source=path, rule_settings=rule_settings, settings=settings, explicit=frozenset(table) & set(DEFAULTS))


def select_rules(config: Config, requested: Sequence[str], flags: frozenset[str] = frozenset()) -> list[Rule]:
    """Instantiate the rules asked for by `--rule`, or those the configuration selects.

    `--rule ID` runs exactly the rules named, whatever `select` and `ignore`
    say (asking for a rule by name is the strongest signal there is);
    `--rule selected` stands for the configuration's selection and may be
    combined with ids.
    """
    unknown = [rule_id for rule_id in requested if rule_id not in RULES_BY_ID and rule_id != SELECTED]
    if unknown:
        known = ", ".join(RULES_BY_ID)
        hint = did_you_mean(unknown[0], [*RULES_BY_ID, SELECTED])
        raise ConfigurationError(f"unknown rule {unknown[0]!r}{hint} (known rules: {known}, or {SELECTED!r})")
    chosen: list[type[Rule]] = []
    for rule_id in requested or [SELECTED]:
        chosen.extend(config.selected_rules() if rule_id == SELECTED else [RULES_BY_ID[rule_id]])
    chosen = list(dict.fromkeys(chosen))
    return [rule(config.rule_settings.get(rule.id), flags) for rule in chosen]
