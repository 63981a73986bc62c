"""`codefix config`: the effective configuration as TOML, each value commented with where it came from.

Written with `tomlkit` so that the output is valid TOML a user can paste
under `[tool.codefix]` as it is; the comments say which values are defaults
and which the file set, which is what one asks when a rule does not run.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit

from codefix.config import Config
from codefix.config_keys import DEFAULTS
from codefix.rules import ALL_RULES


def _origin(config: Config, explicit: bool) -> str:
    return f"from {config.source}" if explicit and config.source is not None else "default"


def render_config(config: Config, root: Path) -> str:
    """The TOML text of `config` for a project rooted at `root`."""
    document = tomlkit.document()
    document.add(tomlkit.comment(f"project root: {root}"))
    source = str(config.source) if config.source is not None else "none (all defaults)"
    document.add(tomlkit.comment(f"configuration file: {source}"))
    selected = ", ".join(rule.id for rule in config.selected_rules()) or "none"
    document.add(tomlkit.comment(f"`--rule selected` and a bare `scan` run: {selected}"))
    codefix = tomlkit.table()
    for key in DEFAULTS:
        value = config.settings[key]
        if key == "select" and value is None:
            value = [rule.id for rule in ALL_RULES if rule.default_enabled]
        item = tomlkit.item(value)
        item.comment(_origin(config, key in config.explicit))
        codefix.add(key, item)
    for rule in ALL_RULES:
        own = config.rule_settings.get(rule.id, {})
        if not rule.options and not own:
            continue
        table = tomlkit.table()
        for key, default in rule.options.items():
            value = own.get(key, default)
            if value is None:  # TOML has no null: an unset optional key is shown as a comment
                table.add(tomlkit.comment(f"{key}: not set (default)"))
                continue
            item = tomlkit.item(value)
            item.comment(_origin(config, key in own))
            table.add(key, item)
        codefix.add(rule.id, table)
    tool = tomlkit.table(is_super_table=True)
    tool.add("codefix", codefix)
    document.add("tool", tool)
    return tomlkit.dumps(document)
