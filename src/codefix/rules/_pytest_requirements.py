"""Whether a project pins pytest below 9, read from what it declares, never from what is installed.

pytest 9 reads the native `[tool.pytest]` table and `pytest.toml`; pytest 8
ignores both without a word. Which of the two a project's tests run under is
written in its requirements: `pyproject.toml` dependency lists (PEP 621,
PEP 735 groups, Poetry, uv and PDM tables) and `requirements*.txt` /
`constraints*.txt` files. Only an upper bound counts: `pytest>=7` admits
pytest 9 and is not a pin.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

REQUIREMENT_FILE_PATTERNS = ("requirements*.txt", "requirements*.in", "constraints*.txt", "requirements/*.txt", "requirements/*.in")
#: How every name (or first folder) of `REQUIREMENT_FILE_PATTERNS` starts.
_REQUIREMENT_FILE_STARTS = ("requirements", "constraints")

_REQUIREMENT = re.compile(r"^\s*pytest\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)", re.IGNORECASE)
_CLAUSE = re.compile(r"(~=|===|==|!=|<=|>=|<|>)\s*([0-9][\w.*+!-]*)")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


@dataclass(frozen=True)
class PytestPin:
    """A requirement that rules out every pytest 9 release."""

    path: Path
    #: 1-based line of the requirement.
    line: int
    #: The requirement as written (`pytest==8.3.2`).
    text: str


def _version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(text)
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


def _clause_excludes_9(operator: str, version: str) -> bool:
    parsed = _version(version)
    if parsed is None:
        return False
    if operator == "<":
        return parsed <= (9, 0, 0)
    if operator == "<=":
        return parsed < (9, 0, 0)
    if operator in ("==", "===", "~="):
        return parsed[0] < 9
    return False


def excludes_pytest_9(spec: str) -> bool:
    """True when a PEP 440 specifier (or a Poetry constraint) admits no pytest 9 release."""
    spec = spec.strip()
    if not spec or spec == "*":
        return False
    if spec[0] in "^~" and not spec.startswith("~="):
        parsed = _version(spec[1:].strip())
        return parsed is not None and parsed[0] < 9
    if spec[0].isdigit():  # Poetry: a bare version is an exact pin
        parsed = _version(spec)
        return parsed is not None and parsed[0] < 9
    return any(_clause_excludes_9(op, version) for op, version in _CLAUSE.findall(spec))


def _requirement_spec(requirement: str) -> str | None:
    """The specifier of a PEP 508 requirement on pytest itself (not pytest-xdist), else None."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        return None
    rest = requirement[match.start("spec") :].lstrip()
    if rest and rest[0] not in "<>=!~;#(" and not rest.startswith("@"):
        return None
    return match.group("spec").strip().strip("()")


def _line_of(text: str, needle: str) -> int:
    position = text.find(needle)
    return text.count("\n", 0, position) + 1 if position >= 0 else 1


def _string_lists(value: object) -> Iterator[str]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _string_lists(item)


def _poetry_specs(document: dict) -> Iterator[str]:
    poetry = document.get("tool", {}).get("poetry", {})
    if not isinstance(poetry, dict):
        return
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        tables += [group.get("dependencies") for group in groups.values() if isinstance(group, dict)]
    for table in tables:
        if not isinstance(table, dict):
            continue
        value = table.get("pytest")
        if isinstance(value, dict):
            value = value.get("version")
        if isinstance(value, str):
            yield value


def _pyproject_pin(path: Path) -> PytestPin | None:
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = document.get("project", {})
    tool = document.get("tool", {})
    sources: list[object] = []
    if isinstance(project, dict):
        sources += [project.get("dependencies"), project.get("optional-dependencies")]
    sources.append(document.get("dependency-groups"))
    if isinstance(tool, dict):
        sources += [tool.get("uv", {}).get("dev-dependencies") if isinstance(tool.get("uv"), dict) else None]
        sources += [tool.get("pdm", {}).get("dev-dependencies") if isinstance(tool.get("pdm"), dict) else None]
    for requirement in (r for source in sources for r in _string_lists(source)):
        spec = _requirement_spec(requirement)
        if spec is not None and excludes_pytest_9(spec):
            return PytestPin(path, _line_of(text, requirement), requirement)
    for spec in _poetry_specs(document):
        if excludes_pytest_9(spec):
            match = re.search(r"^\s*pytest\s*=.*$", text, re.MULTILINE)
            line = text.count("\n", 0, match.start()) + 1 if match else 1
            return PytestPin(path, line, f"pytest = {spec!r}")
    return None


def _requirements_file_pin(path: Path) -> PytestPin | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, start=1):
        spec = _requirement_spec(line)
        if spec is not None and excludes_pytest_9(spec):
            return PytestPin(path, number, line.strip())
    return None


def pytest_pin_below_9(folder: Path, names: Collection[str] | None = None) -> PytestPin | None:
    """The first requirement in `folder` that rules out pytest 9, or None.

    `names`: the folder's entries, lowercased, when the caller listed them:
    most folders hold neither a `pyproject.toml` nor a requirements file,
    and five globs per folder of a monorepo added up.
    """
    pyproject = folder / "pyproject.toml"
    if (names is None or "pyproject.toml" in names) and pyproject.is_file():
        pin = _pyproject_pin(pyproject)
        if pin is not None:
            return pin
    if names is not None and not any(name.startswith(_REQUIREMENT_FILE_STARTS) for name in names):
        return None
    for pattern in REQUIREMENT_FILE_PATTERNS:
        for path in sorted(folder.glob(pattern)):
            pin = _requirements_file_pin(path) if path.is_file() else None
            if pin is not None:
                return pin
    return None
