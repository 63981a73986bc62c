"""pytest configuration files named on the command line: the tests they govern become the marker rule's targets.

pre-commit names every staged file. When the staged change is a
`pyproject.toml` (or `pytest.ini`, `tox.ini`, ...) that drops a marker
registration, the files using that marker are not staged, yet they are the
ones the change breaks. So a pytest configuration file named as a PATH hands
the project-level rules (pytest-markers) every Python file it governs, the
way pytest itself would pick it; per-file rules still see only the Python
files named, so `await` findings stay limited to what was passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from codefix.discovery import Exclusion, iter_python_files
from codefix.index import ProjectIndex
from codefix.resolution import Resolver
from codefix.rules.base import ProjectContext, ProjectOutcome, ProjectRule, Rule
from codefix.rules._pytest_config import CONFIG_NAMES, ConfigLocator


def governed_files(paths: Sequence[Path], root: Path, exclusion: Exclusion) -> list[Path]:
    """The Python files under the root whose pytest configuration is one of the named `paths`."""
    named = {path.resolve() for path in paths if path.name in CONFIG_NAMES and path.is_file()}
    named = {path for path in named if path.is_relative_to(root)}
    if not named:
        return []
    locator = ConfigLocator(root)
    governed = []
    for folder in sorted({path.parent for path in named}):
        for file in iter_python_files(folder, exclusion=exclusion):
            config = locator.locate(file.resolve().parent).config
            if config is not None and config.path.resolve() in named:
                governed.append(file.resolve())
    return list(dict.fromkeys(governed))


class WithGovernedFiles(ProjectRule):
    """A project rule run over the named Python files plus the governed ones (see the module docstring)."""

    def __init__(self, rule: ProjectRule, extra: Sequence[Path]):
        super().__init__(rule.settings, rule.flags)
        self.rule = rule
        self.extra = list(extra)
        self.id = rule.id  # type: ignore[misc] - the wrapped rule's identity, per instance
        self.summary = rule.summary  # type: ignore[misc]

    def prepare(self, index: ProjectIndex, resolver: Resolver) -> None:
        self.rule.prepare(index, resolver)

    def check_project(self, context: ProjectContext) -> ProjectOutcome:
        return self.rule.check_project(dataclasses.replace(context, targets=self.checked_files(context.targets)))

    def checked_files(self, targets: Sequence[Path]) -> list[Path]:
        return list(dict.fromkeys([*targets, *self.extra]))


def widen_for_named_configs(rules: list[Rule], paths: Sequence[Path], root: Path, exclusion: Exclusion) -> list[Rule]:
    """`rules`, the project rules wrapped when a pytest configuration file is among `paths`."""
    if not any(isinstance(rule, ProjectRule) for rule in rules):
        return rules
    extra = governed_files(paths, root, exclusion)
    if not extra:
        return rules
    return [WithGovernedFiles(rule, extra) if isinstance(rule, ProjectRule) else rule for rule in rules]
