"""Which file configures a run: found without loading the rules.

Split from config.py so that a remembered scan (shortcut.py) can check which
file governs the command before anything heavy is imported; config.py's
docstring describes the search.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from codefix.types import ConfigurationError

#: Looked for in each folder, in this order; pyproject.toml only counts with a `[tool.codefix]` table.
CONFIG_FILE_NAMES = (".codefix.toml", "codefix.toml", "pyproject.toml")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: invalid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from None


def codefix_table(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    """The settings table of a configuration file: `[tool.codefix]` of a pyproject.toml, else the top level."""
    if path.name != "pyproject.toml":
        return document
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigurationError(f"{path}: tool must be a table")
    table = tool.get("codefix")
    if table is not None and not isinstance(table, dict):
        raise ConfigurationError(f"{path}: tool.codefix must be a table")
    return table


def _search_stop(folder: Path, root: Path) -> Path:
    """The last folder the search looks in: the git work tree's top, else the project root."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return root if folder.is_relative_to(root) else folder


def find_config_file(start: Path, root: Path) -> Path | None:
    """The configuration file governing `start`, found as config.py's docstring says; None when there is none."""
    start = Path(os.path.abspath(start))
    folder = (start if start.is_dir() else start.parent).resolve()
    stop = _search_stop(folder, root)
    for candidate in (folder, *folder.parents):
        for name in CONFIG_FILE_NAMES:
            path = candidate / name
            if path.is_file() and (name != "pyproject.toml" or codefix_table(path, read_toml(path)) is not None):
                return path
        if candidate == stop:
            break
    return None
