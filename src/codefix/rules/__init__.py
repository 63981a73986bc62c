"""The rule registry: every rule codefix knows, by id, in a stable order."""

from __future__ import annotations

from codefix.rules.async_context import AsyncContext
from codefix.rules.await_sync import AwaitSync
from codefix.rules.await_websocket import AwaitWebsocket
from codefix.rules.clickhouse_async import ClickhouseAsync
from codefix.rules.pytest_markers import PytestMarkers
from codefix.rules.base import ConfigurationError, Example, FileContext, ProjectContext, ProjectOutcome, ProjectRule, Report, Rule

ALL_RULES: tuple[type[Rule], ...] = (AwaitWebsocket, AwaitSync, ClickhouseAsync, AsyncContext, PytestMarkers)
RULES_BY_ID: dict[str, type[Rule]] = {rule.id: rule for rule in ALL_RULES}

__all__ = [
    "ALL_RULES",
    "RULES_BY_ID",
    "ConfigurationError",
    "Example",
    "FileContext",
    "ProjectContext",
    "ProjectOutcome",
    "ProjectRule",
    "Report",
    "Rule",
]
