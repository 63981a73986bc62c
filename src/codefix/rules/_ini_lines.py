"""Ini-style files (pytest.ini, tox.ini, setup.cfg) read as pytest reads them, edited line by line.

pytest parses these with `iniconfig`, not `configparser`, and the two
disagree: `iniconfig` keeps inline `#` text inside values, lets blank and
comment lines sit inside a continued value, and rejects duplicate keys and
sections outright. This module follows `iniconfig`'s rules so that what
codefix calls registered is what pytest registers, and it remembers the line
of every value so that an edit can add or drop whole lines while every other
byte of the file stays as it was (`configparser` would rewrite the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOM = "\ufeff"
COMMENT_CHARS = "#;"


class IniParseError(Exception):
    """What pytest would refuse the file for; its text names the 1-based line."""


@dataclass
class IniValueLine:
    #: 0-based index into `IniFile.lines`.
    index: int
    #: The value text of that line, stripped, as `iniconfig` keeps it.
    text: str


@dataclass
class IniKey:
    section: str
    name: str
    #: 0-based index of the `name = value` line.
    index: int
    #: Non-empty value lines, the first line's value included when not empty.
    values: list[IniValueLine] = field(default_factory=list)

    @property
    def last_index(self) -> int:
        """The last line that belongs to this key (its last continuation line)."""
        return self.values[-1].index if self.values else self.index


@dataclass
class IniSection:
    name: str
    index: int
    keys: dict[str, IniKey] = field(default_factory=dict)

    @property
    def last_index(self) -> int:
        """The last line holding one of the section's keys (or its header)."""
        return max((key.last_index for key in self.keys.values()), default=self.index)


@dataclass
class IniFile:
    #: The text split like `iniconfig` splits it, each line with its ending.
    lines: list[str]
    sections: dict[str, IniSection]
    has_bom: bool

    def text(self) -> str:
        return (BOM if self.has_bom else "") + "".join(self.lines)

    def newline(self) -> str:
        """The file's line ending, from its first line that has one."""
        for line in self.lines:
            if line.endswith("\r\n"):
                return "\r\n"
            if line.endswith("\n"):
                return "\n"
        return "\n"


def _is_comment(line: str) -> bool:
    return line.lstrip()[:1] in tuple(COMMENT_CHARS)


def _section_name(line: str) -> str | None:
    """The section a `[name]` line opens, or None when the line only starts with `[`."""
    for char in COMMENT_CHARS:
        line = line.partition(char)[0].rstrip()
    if line.endswith("]"):
        return line[1:-1]
    return None


def _split_key(line: str, number: int) -> tuple[str, str]:
    name, sep, value = line.partition("=")
    if not sep or ":" in name:
        name, sep, value = line.partition(":")
        if not sep:
            raise IniParseError(f"line {number}: unexpected line: {line!r}")
    return name.strip(), value.strip()


def parse_ini(text: str) -> IniFile:
    """Parse like `iniconfig` does; raise IniParseError where pytest would fail."""
    has_bom = text.startswith(BOM)
    lines = text.removeprefix(BOM).splitlines(True)
    sections: dict[str, IniSection] = {}
    section: IniSection | None = None
    last_key: IniKey | None = None
    for index, raw in enumerate(lines):
        number = index + 1
        line = "" if _is_comment(raw) else raw.rstrip()
        if not line:
            continue
        if line[0] == "[" and (name := _section_name(line)) is not None:
            if not name:
                raise IniParseError(f"line {number}: empty section name")
            if name in sections:
                raise IniParseError(f"line {number}: duplicate section {name!r}")
            section = sections[name] = IniSection(name, index)
            last_key = None
        elif line[0] == "[" or line[0].isspace():
            if last_key is None:
                raise IniParseError(f"line {number}: unexpected value continuation")
            last_key.values.append(IniValueLine(index, line.strip()))
        else:
            name, value = _split_key(line, number)
            if section is None:
                raise IniParseError(f"line {number}: no section header defined")
            if name in section.keys:
                raise IniParseError(f"line {number}: duplicate name {name!r}")
            last_key = section.keys[name] = IniKey(section.name, name, index)
            if value:
                last_key.values.append(IniValueLine(index, value))
    return IniFile(lines, sections, has_bom)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _ending_of(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return ""


def _terminated(ini: IniFile, index: int) -> None:
    """Give line `index` a line ending, if it is the last line and has none."""
    if index >= 0 and not _ending_of(ini.lines[index]):
        ini.lines[index] += ini.newline()


def append_values(ini: IniFile, key: IniKey, entries: list[str]) -> None:
    """Add `entries` as continuation lines after the key's last value, indented like its others."""
    if not entries:
        return
    continuations = [v for v in key.values if v.index != key.index]
    indent = _indent_of(ini.lines[continuations[-1].index]) if continuations else "    "
    after = key.last_index
    _terminated(ini, after)
    newline = _ending_of(ini.lines[after])
    ini.lines[after + 1 : after + 1] = [f"{indent}{entry}{newline}" for entry in entries]


def add_key(ini: IniFile, section: IniSection, name: str, entries: list[str]) -> None:
    """Add `name =` with `entries` as continuation lines after the section's last key."""
    after = section.last_index
    _terminated(ini, after)
    newline = _ending_of(ini.lines[after])
    block = [f"{name} ={newline}", *(f"    {entry}{newline}" for entry in entries)]
    ini.lines[after + 1 : after + 1] = block


def add_section(ini: IniFile, section: str, name: str, entries: list[str]) -> None:
    """Append `[section]` with `name =` and `entries` at the end of the file."""
    newline = ini.newline()
    _terminated(ini, len(ini.lines) - 1)
    block = []
    if ini.lines and ini.lines[-1].strip():
        block.append(newline)
    block += [f"[{section}]{newline}", f"{name} ={newline}", *(f"    {entry}{newline}" for entry in entries)]
    ini.lines.extend(block)


def remove_lines(ini: IniFile, indexes: set[int]) -> None:
    ini.lines[:] = [line for index, line in enumerate(ini.lines) if index not in indexes]
