"""The configuration file pytest uses for a folder, and the markers it registers there.

pytest looks from the tests' common folder upward and, in each folder, takes
the first of `pytest.toml`, `.pytest.toml`, `pytest.ini`, `.pytest.ini`,
`pyproject.toml` (with a pytest table), `tox.ini` (with `[pytest]`) and
`setup.cfg` (with `[tool:pytest]`); the nearest folder wins, and a
`pyproject.toml` without a pytest table only fixes the rootdir when nothing
else is found. Whether `pytest.toml` and the native `[tool.pytest]` table
count depends on the pytest major version, so the search takes the
project's pin below 9 (if any) into account.

Files are read, never executed: TOML through `tomllib` (what pytest itself
uses) plus `tomlkit` for where each entry is written, ini-style files through
`_ini_lines`, which follows pytest's `iniconfig`. Problems pytest would
reject or silently ignore are collected as `ConfigProblem`s with their line.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from codefix.rules._ini_lines import IniFile, IniKey, IniParseError, parse_ini
from codefix.rules._pytest_requirements import PytestPin, pytest_pin_below_9

#: The file names pytest looks for, in its order of precedence within a folder.
CONFIG_NAMES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
#: Names pytest 8 does not know.
PYTEST_9_ONLY_NAMES = frozenset({"pytest.toml", ".pytest.toml"})

_TOML_TYPE_NAMES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", dict: "a table", list: "an array"}


class Style(enum.Enum):
    """Where in its file a configuration keeps its options."""

    PYTEST_TOML = "pytest-toml"  # [pytest] of pytest.toml, native TOML types
    PYTEST_INI = "pytest-ini"  # [pytest] of pytest.ini
    INI_OPTIONS = "ini-options"  # [tool.pytest.ini_options] of pyproject.toml
    NATIVE = "native"  # [tool.pytest] of pyproject.toml, pytest 9
    TOX_INI = "tox-ini"  # [pytest] of tox.ini
    SETUP_CFG = "setup-cfg"  # [tool:pytest] of setup.cfg

    @property
    def is_toml(self) -> bool:
        return self in (Style.PYTEST_TOML, Style.INI_OPTIONS, Style.NATIVE)

    @property
    def table(self) -> tuple[str, ...]:
        """The TOML table path, or the one ini section, holding the options."""
        return {
            Style.PYTEST_TOML: ("pytest",),
            Style.PYTEST_INI: ("pytest",),
            Style.INI_OPTIONS: ("tool", "pytest", "ini_options"),
            Style.NATIVE: ("tool", "pytest"),
            Style.TOX_INI: ("pytest",),
            Style.SETUP_CFG: ("tool:pytest",),
        }[self]

    @property
    def label(self) -> str:
        return f"[{'.'.join(self.table)}]"


#: The style a file gets when codefix has to create the pytest section in it.
STYLE_TO_CREATE = {
    "pytest.toml": Style.PYTEST_TOML,
    ".pytest.toml": Style.PYTEST_TOML,
    "pytest.ini": Style.PYTEST_INI,
    ".pytest.ini": Style.PYTEST_INI,
    "pyproject.toml": Style.INI_OPTIONS,  # read by pytest 8 and 9 alike
    "tox.ini": Style.TOX_INI,
    "setup.cfg": Style.SETUP_CFG,
}


@dataclass(frozen=True)
class MarkerEntry:
    """One entry of a `markers` list: `name(args): description`."""

    name: str
    text: str
    #: 1-based line of the entry in its file.
    line: int


@dataclass(frozen=True)
class ConfigProblem:
    """Configuration pytest would reject or silently ignore, with where it is."""

    path: Path
    line: int
    message: str
    #: A value pytest cannot use at all (a marker list of the wrong type): a
    #: configuration error that stops the run (exit 2), not a finding to list.
    fatal: bool = False


class MarkersKind(enum.Enum):
    ABSENT = "absent"
    ARRAY = "array"
    STRING = "string"  # one entry a line, accepted in ini mode only
    INVALID = "invalid"


@dataclass
class PytestConfig:
    """One candidate configuration file as pytest would read it."""

    path: Path
    #: How pytest reads it; None when pytest takes no configuration from it
    #: (a tox.ini without [pytest], a pyproject.toml without a pytest table).
    style: Style | None
    raw: bytes = b""
    entries: list[MarkerEntry] = field(default_factory=list)
    markers_kind: MarkersKind = MarkersKind.ABSENT
    #: 1-based line of the `markers` key, or of the section/table header.
    markers_line: int = 1
    problems: list[ConfigProblem] = field(default_factory=list)
    #: Why pytest cannot read the file at all (it stops with a usage error).
    error: str | None = None

    @property
    def registered(self) -> frozenset[str]:
        return frozenset(entry.name for entry in self.entries)

    @property
    def where(self) -> str:
        """`pyproject.toml [tool.pytest.ini_options]`, for messages."""
        style = self.style or STYLE_TO_CREATE.get(self.path.name)
        return f"{self.path.name} {style.label}" if style else self.path.name

    @property
    def create_style(self) -> Style | None:
        """The style new markers go under: the file's own, or the one to create."""
        return self.style or STYLE_TO_CREATE.get(self.path.name)

    @property
    def unwritable_reason(self) -> str | None:
        if self.error is not None:
            return f"pytest cannot read {self.path.name}"
        if self.markers_kind is MarkersKind.INVALID:
            return f"its markers value in {self.where} is not a list of strings"
        return None


def marker_name(entry: str) -> str:
    """The name pytest registers for `name(args): description`."""
    return entry.partition(":")[0].partition("(")[0].strip()


def type_name(value: object) -> str:
    return next((name for kind, name in _TOML_TYPE_NAMES.items() if type(value) is kind), type(value).__name__)


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _part(name: str) -> str:
    escaped = re.escape(name)
    return f"(?:{escaped}|\"{escaped}\"|'{escaped}')"


def header_offset(text: str, table: tuple[str, ...]) -> int | None:
    """Offset of the `[a.b.c]` header line of `table`, or None."""
    pattern = r"^[ \t]*\[[ \t]*" + r"[ \t]*\.[ \t]*".join(_part(p) for p in table) + r"[ \t]*\]"
    match = re.search(pattern, text, re.MULTILINE)
    return match.start() if match else None


def key_offset(text: str, table: tuple[str, ...], key: str) -> int | None:
    """Offset of the `key =` line inside `table`'s section, or anywhere when the header is not found."""
    start = header_offset(text, table)
    section_end = len(text)
    if start is not None:
        start = text.find("\n", start) + 1 if "\n" in text[start:] else len(text)
        next_header = re.compile(r"^[ \t]*\[", re.MULTILINE).search(text, start)
        section_end = next_header.start() if next_header else len(text)
    match = re.compile(rf"^[ \t]*{_part(key)}[ \t]*=", re.MULTILINE).search(text, start or 0, section_end)
    return match.start() if match else None


def _locate_entries(text: str, start: int, needles: list[str]) -> list[int]:
    """1-based lines of each needle, found one after the other from `start`."""
    lines = []
    position = start
    for needle in needles:
        found = text.find(needle, position) if needle else -1
        if found < 0:
            lines.append(line_at(text, start))
            continue
        lines.append(line_at(text, found))
        position = found + len(needle)
    return lines


def _raw_array_items(text: str, table: tuple[str, ...]) -> list[str]:
    """Each array item as written (quotes included), by tomlkit; [] when it cannot tell."""
    import tomlkit  # here: most runs never need it, and it costs 13 ms to import
    import tomlkit.exceptions

    try:
        node: object = tomlkit.parse(text)
        for part in (*table, "markers"):
            node = node[part]  # type: ignore[index]
    except (tomlkit.exceptions.TOMLKitError, KeyError, TypeError):
        return []
    return [item.as_string() for item in node] if isinstance(node, list) else []  # type: ignore[attr-defined]


def _read_toml_markers(config: PytestConfig, text: str, table: dict, ini_mode: bool) -> None:
    """Fill `config` with the markers of a TOML table pytest reads, and their type problems."""
    style = config.style
    assert style is not None
    header = header_offset(text, style.table)
    config.markers_line = line_at(text, header) if header is not None else 1
    if "markers" not in table:
        return
    offset = key_offset(text, style.table, "markers")
    start = offset if offset is not None else (header or 0)
    config.markers_line = line_at(text, start)
    value = table["markers"]
    expected = "an array of strings or a string" if ini_mode else "an array of strings"
    if isinstance(value, str) and ini_mode:
        config.markers_kind = MarkersKind.STRING
        lines = [line.strip() for line in value.split("\n") if line.strip()]
        positions = _locate_entries(text, start, lines)
        config.entries = [MarkerEntry(marker_name(line), line, at) for line, at in zip(lines, positions, strict=True)]
        return
    if not isinstance(value, list):
        config.markers_kind = MarkersKind.INVALID
        config.problems.append(
            ConfigProblem(config.path, config.markers_line, f"{style.label} markers must be {expected}, not {type_name(value)}; pytest cannot use it", fatal=True)
        )
        return
    raw_items = _raw_array_items(text, style.table)
    positions = _locate_entries(text, start, raw_items if len(raw_items) == len(value) else [""] * len(value))
    config.markers_kind = MarkersKind.ARRAY
    for number, (item, at) in enumerate(zip(value, positions, strict=True), start=1):
        if isinstance(item, str):
            config.entries.append(MarkerEntry(marker_name(item), item, at))
            continue
        config.markers_kind = MarkersKind.INVALID
        config.problems.append(
            ConfigProblem(config.path, at, f"{style.label} markers entry {number} is {type_name(item)}, not a string; pytest cannot use it", fatal=True)
        )


def _decode(raw: bytes) -> str:
    """The text pytest reads: UTF-8, a byte order mark dropped."""
    return raw.decode("utf-8").removeprefix("\ufeff")


def _toml_document(config: PytestConfig) -> tuple[str, dict] | None:
    """Text and data of a TOML file, or None with `config.error` set."""
    try:
        text = _decode(config.raw)
        return text, tomllib.loads(text)
    except UnicodeDecodeError as exc:
        config.error = f"cannot decode as UTF-8: byte {exc.start}: {exc.reason}"
    except tomllib.TOMLDecodeError as exc:
        config.error = f"invalid TOML: {exc}"
    return None


def _load_pytest_toml(config: PytestConfig) -> None:
    config.style = Style.PYTEST_TOML  # counts even when empty
    loaded = _toml_document(config)
    if loaded is None:
        return
    text, document = loaded
    table = document.get("pytest")
    if table is None:
        return
    if not isinstance(table, dict):
        config.error = f"pytest must be a table, not {type_name(table)}"
        return
    _read_toml_markers(config, text, table, ini_mode=False)


def _native_key_line(text: str, key: str) -> int:
    offset = header_offset(text, ("tool", "pytest", key))
    if offset is None:
        offset = key_offset(text, ("tool", "pytest"), key)
    return line_at(text, offset) if offset is not None else 1


def _pyproject_problems(config: PytestConfig, text: str, native: dict, ini_options: dict | None, pin: PytestPin | None) -> None:
    """What pytest 9 refuses and pytest 8 ignores in the `[tool.pytest]` tables."""
    if native and pin is not None:
        header = header_offset(text, ("tool", "pytest"))
        line = line_at(text, header) if header is not None else _native_key_line(text, next(iter(native)))
        config.problems.append(
            ConfigProblem(
                config.path,
                line,
                f"[tool.pytest] is read by pytest 9 or later only, and {pin.path.name}:{pin.line} pins "
                f"pytest below 9 ({pin.text}), which ignores it and reads [tool.pytest.ini_options] only",
            )
        )
        return
    for key, value in native.items():
        line = _native_key_line(text, key)
        shown = f"[tool.pytest.{key}]" if isinstance(value, dict) else f"[tool.pytest] {key}"
        if ini_options:
            config.problems.append(
                ConfigProblem(
                    config.path,
                    line,
                    f"{shown} beside [tool.pytest.ini_options]: pytest 9 refuses to start (\"Cannot use both "
                    "[tool.pytest] and [tool.pytest.ini_options]\"); move it into one of the two",
                )
            )
        elif isinstance(value, dict):
            config.problems.append(
                ConfigProblem(config.path, line, f"{shown} is not a pytest setting: pytest 9 reports it as an unknown option '{key}'")
            )


def _minversion_problem(config: PytestConfig, text: str, native: dict) -> None:
    """`minversion` below 9 in the native table: pytest 8 would run and ignore these markers."""
    minversion = native.get("minversion")
    if "markers" not in native or not isinstance(minversion, (str, int, float)):
        return
    digits = re.match(r"\s*(\d+)", str(minversion))
    if digits is None or int(digits.group(1)) >= 9:
        return
    offset = key_offset(text, ("tool", "pytest"), "minversion")
    config.problems.append(
        ConfigProblem(
            config.path,
            line_at(text, offset) if offset is not None else 1,
            f"minversion = {str(minversion)!r} admits pytest 8, which ignores [tool.pytest] and the markers in it; "
            "require pytest 9 (minversion = \"9.0\") or use [tool.pytest.ini_options]",
        )
    )


def _load_pyproject(config: PytestConfig, pin: PytestPin | None) -> None:
    loaded = _toml_document(config)
    if loaded is None:
        return
    text, document = loaded
    tool = document.get("tool", {})
    tool_pytest = tool.get("pytest", {}) if isinstance(tool, dict) else {}
    if not isinstance(tool_pytest, dict):
        config.error = f"tool.pytest must be a table, not {type_name(tool_pytest)}"
        return
    native = {key: value for key, value in tool_pytest.items() if key != "ini_options"}
    ini_options = tool_pytest.get("ini_options")
    if ini_options is not None and not isinstance(ini_options, dict):
        config.error = f"tool.pytest.ini_options must be a table, not {type_name(ini_options)}"
        return
    _pyproject_problems(config, text, native, ini_options, pin)
    if native and pin is None and not ini_options:
        # pytest 9 reads the native table; an empty ini_options beside it does not count.
        config.style = Style.NATIVE
        _minversion_problem(config, text, native)
        _read_toml_markers(config, text, native, ini_mode=False)
    elif ini_options is not None:
        # Both tables filled: pytest 9 refuses to start (reported above) and
        # pytest 8 reads ini_options, so that is where markers belong.
        config.style = Style.INI_OPTIONS
        _read_toml_markers(config, text, ini_options, ini_mode=True)


def _read_ini_markers(config: PytestConfig, ini: IniFile) -> None:
    assert config.style is not None
    section = ini.sections.get(config.style.table[0])
    if section is None:
        return
    config.markers_line = section.index + 1
    key: IniKey | None = section.keys.get("markers")
    if key is None:
        return
    config.markers_kind = MarkersKind.ARRAY
    config.markers_line = key.index + 1
    config.entries = [MarkerEntry(marker_name(value.text), value.text, value.index + 1) for value in key.values]


def _load_ini(config: PytestConfig, style: Style, dedicated: bool) -> None:
    try:
        ini = parse_ini(config.raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        config.style = style
        config.error = f"cannot decode as UTF-8: byte {exc.start}: {exc.reason}"
        return
    except IniParseError as exc:
        config.style = style
        config.error = f"pytest cannot parse it: {exc}"
        return
    if style is Style.SETUP_CFG and "tool:pytest" not in ini.sections and "pytest" in ini.sections:
        config.style = style
        config.error = f"line {ini.sections['pytest'].index + 1}: pytest rejects a [pytest] section in setup.cfg; rename it [tool:pytest]"
        return
    if dedicated or style.table[0] in ini.sections:
        config.style = style
        _read_ini_markers(config, ini)


def load_config(path: Path, pin: PytestPin | None) -> PytestConfig:
    """Read one candidate file; `style` stays None when pytest takes no configuration from it."""
    config = PytestConfig(path, None)
    try:
        config.raw = path.read_bytes()
    except OSError as exc:
        config.style = STYLE_TO_CREATE[path.name]
        config.error = f"cannot read: {exc.strerror or exc}"
        return config
    name = path.name
    if name in PYTEST_9_ONLY_NAMES:
        _load_pytest_toml(config)
    elif name == "pyproject.toml":
        _load_pyproject(config, pin)
    elif name in ("pytest.ini", ".pytest.ini"):
        _load_ini(config, Style.PYTEST_INI, dedicated=True)
    elif name == "tox.ini":
        _load_ini(config, Style.TOX_INI, dedicated=False)
    else:
        _load_ini(config, Style.SETUP_CFG, dedicated=False)
    if config.error is not None and config.style is None:
        # pytest parses every candidate it meets, and stops at one it cannot read.
        config.style = STYLE_TO_CREATE[name]
    return config


@dataclass
class Located:
    """What pytest reads for one folder, and what it ignores on the way."""

    #: The file pytest uses; a pyproject.toml with style None when it only fixes the rootdir.
    config: PytestConfig | None
    #: Files with markers that pytest does not read here, each with the reason.
    ignored: list[tuple[PytestConfig, str]] = field(default_factory=list)
    #: Files pytest looked at and passed over that have problems of their own
    #: (a `[tool.pytest]` table that a pin below 9 makes pytest skip).
    passed_over: list[PytestConfig] = field(default_factory=list)


class ConfigLocator:
    """Finds the configuration for folders, reading each file once.

    Which pytest reads a folder's files is decided per folder: a pin below 9
    in that folder's own `pyproject.toml` or requirements files (a
    sub-project of a monorepo), else the project root's.
    """

    def __init__(self, root: Path):
        self.root = root
        self._pins: dict[Path, PytestPin | None] = {}
        self._files: dict[Path, PytestConfig] = {}
        self._folders: dict[Path, Located] = {}
        self._listings: dict[Path, frozenset[str]] = {}

    def entries(self, folder: Path) -> frozenset[str]:
        """The names in `folder`, lowercased, listed once.

        A monorepo's folders are asked about the same few files again and
        again (a stat per configuration name, five globs for requirements
        files, per folder and per parent). Lowercased: on a file system that
        ignores case, `PYTEST.INI` is the `pytest.ini` pytest opens; the
        stat that follows decides.
        """
        if folder not in self._listings:
            try:
                self._listings[folder] = frozenset(name.lower() for name in os.listdir(folder))
            except OSError:
                self._listings[folder] = frozenset()
        return self._listings[folder]

    def is_file(self, path: Path) -> bool:
        return path.name.lower() in self.entries(path.parent) and path.is_file()

    def pin_at(self, folder: Path) -> PytestPin | None:
        if folder not in self._pins:
            own = pytest_pin_below_9(folder, self.entries(folder)) if folder.is_relative_to(self.root) else None
            self._pins[folder] = own or (self.pin_at(self.root) if folder != self.root else None)
        return self._pins[folder]

    def names_at(self, folder: Path) -> tuple[str, ...]:
        pin = self.pin_at(folder)
        return tuple(n for n in CONFIG_NAMES if pin is None or n not in PYTEST_9_ONLY_NAMES)

    def load(self, path: Path) -> PytestConfig:
        if path not in self._files:
            self._files[path] = load_config(path, self.pin_at(path.parent))
        return self._files[path]

    def _version_ignored(self, base: Path) -> list[tuple[PytestConfig, str]]:
        pin = self.pin_at(base)
        if pin is None:
            return []
        ignored = []
        for name in sorted(PYTEST_9_ONLY_NAMES):
            if self.is_file(base / name):
                config = load_config(base / name, None)
                if config.entries:
                    reason = f"{name} is read by pytest 9 or later only, and {pin.path.name}:{pin.line} pins pytest below 9 ({pin.text})"
                    ignored.append((config, reason))
        return ignored

    def _shadowed(self, base: Path, winner: PytestConfig) -> list[tuple[PytestConfig, str]]:
        names = self.names_at(base)
        later = names[names.index(winner.path.name) + 1 :]
        shadowed = []
        for name in later:
            if not self.is_file(base / name):
                continue
            config = self.load(base / name)
            if config.style is not None and config.entries:
                shadowed.append((config, f"pytest reads {winner.path.name} in this folder, which comes first"))
        return shadowed

    def locate(self, folder: Path) -> Located:
        if folder in self._folders:
            return self._folders[folder]
        fallback: PytestConfig | None = None
        ignored: list[tuple[PytestConfig, str]] = []
        passed_over: list[PytestConfig] = []
        located: Located | None = None
        for base in (folder, *folder.parents):
            ignored += self._version_ignored(base)
            for name in self.names_at(base):
                path = base / name
                if not self.is_file(path):
                    continue
                config = self.load(path)
                if name == "pyproject.toml" and fallback is None:
                    fallback = config
                if config.style is not None:
                    located = Located(config, ignored + self._shadowed(base, config))
                    break
                if config.problems:
                    passed_over.append(config)
            if located is not None:
                break
        if located is None:
            located = Located(fallback, ignored)
        located.passed_over = [config for config in passed_over if config is not located.config]
        self._folders[folder] = located
        return located
