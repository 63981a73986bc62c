"""Writing marker entries into a pytest configuration file, changing nothing else.

TOML files are edited through `tomlkit`, which keeps comments, order, quoting
and the inline or multi-line shape of an array; ini-style files through
`_ini_lines`, which inserts and drops whole lines. Either way the result is
checked before it is returned: parsed again, it must hold exactly the old
configuration with the new marker list, or the edit is refused with a
`RegistrationError` (a file is never half-edited).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Array, String, StringType

from codefix.rules._ini_lines import (
    BOM,
    IniParseError,
    add_key,
    add_section,
    append_values,
    parse_ini,
    remove_lines,
)
from codefix.rules._pytest_config import PytestConfig, Style


class RegistrationError(Exception):
    """An edit codefix will not make; its text is one line for the user."""


def registered_bytes(config: PytestConfig, add: Sequence[str], drop: Sequence[int] = ()) -> bytes:
    """The bytes of `config`'s file with `add` appended to its markers and the entries at `drop` removed.

    `drop` holds indexes into `config.entries`.
    """
    style = config.create_style
    if style is None:
        raise RegistrationError(f"{config.path.name} cannot hold pytest markers")
    try:
        text = config.raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistrationError(f"cannot decode as UTF-8: byte {exc.start}") from None
    bom = BOM if text.startswith(BOM) else ""
    body = text.removeprefix(BOM)
    if style.is_toml:
        edited = _edit_toml(body, style, list(add), sorted(set(drop)))
    else:
        edited = _edit_ini(body, style, config, list(add), sorted(set(drop)))
    return (bom + edited).encode("utf-8")


# --- TOML ------------------------------------------------------------------------


def _with_file_newlines(original: str, edited: str) -> str:
    """tomlkit writes `\\n` in what it adds; a CRLF file keeps CRLF throughout."""
    if "\r\n" in original and original.count("\n") == original.count("\r\n"):
        return re.sub(r"(?<!\r)\n", "\r\n", edited)
    return edited


def _table(document: tomlkit.TOMLDocument, parts: tuple[str, ...]):
    node = document
    for part in parts:
        if part not in node:
            return None
        node = node[part]
        if not isinstance(node, dict):
            raise RegistrationError(f"{'.'.join(parts)} is not a table")
    return node


def _new_string(entry: str, literal: bool) -> String:
    if literal and "'" not in entry and entry.isprintable():
        return tomlkit.string(entry, literal=True)
    return tomlkit.string(entry)


def _new_array(entries: Sequence[str]) -> Array:
    array = tomlkit.array()
    array.multiline(True)
    for entry in entries:
        array.append(entry)
    return array


def _append_table(body: str, parts: tuple[str, ...], entries: Sequence[str]) -> str:
    """`body` with a new `[parts]` table holding `markers` added at its end."""
    snippet = tomlkit.document()
    node = snippet
    for part in parts[:-1]:
        child = tomlkit.table(is_super_table=True)
        node[part] = child
        node = child
    table = tomlkit.table()
    table["markers"] = _new_array(entries)
    node[parts[-1]] = table
    separator = ""
    if body and not body.endswith("\n"):
        separator += "\n"
    if body.strip() and not body.endswith("\n\n"):
        separator += "\n"
    return body + separator + snippet.as_string()


def _edit_string_markers(value: String, add: Sequence[str], drop: Sequence[int]) -> String:
    """A multi-line string of markers (ini mode) with lines added and removed, indented like its own."""
    raw = value.as_string()[3:-3]
    lines = raw.split("\n")
    entry_lines = [number for number, line in enumerate(lines) if line.strip()]
    if drop:
        if [lines[n].strip() for n in entry_lines] != [line.strip() for line in str(value).split("\n") if line.strip()]:
            raise RegistrationError("cannot remove duplicates from a markers string with escapes")
        removed = {entry_lines[index] for index in drop}
        lines = [line for number, line in enumerate(lines) if number not in removed]
        entry_lines = [number for number, line in enumerate(lines) if line.strip()]
    indent = re.match(r"[ \t]*", lines[entry_lines[-1]]).group() if entry_lines else "    "  # type: ignore[union-attr]
    new_lines = [f"{indent}{entry}" for entry in add]
    if lines and not lines[-1].strip():
        lines[-1:-1] = new_lines  # keep the closing delimiter on its own line
    else:
        lines += new_lines
    new_raw = "\n".join(lines)
    if value.type is StringType.MLB:
        decoded = tomllib.loads(f'v = """{new_raw}"""')["v"]
    else:
        decoded = tomllib.loads(f"v = '''{new_raw}'''")["v"]
    return String(value.type, decoded, new_raw, value.trivia)


def _as_multiline_string(value: String, add: Sequence[str], drop: Sequence[int]) -> String:
    """A one-line markers string (ini mode) grown into a multi-line one, one entry per line.

    pytest splits the string on newlines either way; a second entry cannot be
    added to a one-line string without an escaped newline nobody can read.
    """
    lines = [line.strip() for line in str(value).split("\n") if line.strip()]
    lines = [line for index, line in enumerate(lines) if index not in set(drop)] + list(add)
    body = "".join(f"    {line}\n" for line in lines)
    if value.type is StringType.SLL and "'''" not in body:
        return String(StringType.MLL, body, "\n" + body, value.trivia)
    escaped = body.replace("\\", "\\\\").replace('"""', '""\\"')
    return String(StringType.MLB, body, "\n" + escaped, value.trivia)


def _edit_toml(body: str, style: Style, add: list[str], drop: list[int]) -> str:
    try:
        document = tomlkit.parse(body)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise RegistrationError(f"tomlkit cannot parse it: {exc}") from None
    if document.as_string() != body:
        raise RegistrationError("tomlkit cannot reproduce it byte for byte")
    table = _table(document, style.table)
    if table is None:
        edited = _append_table(body, style.table, add) if add else body
    else:
        markers = table.get("markers")
        if markers is None:
            if add:
                table["markers"] = _new_array(add)
        elif isinstance(markers, Array):
            literal = len(markers) > 0 and all(isinstance(item, String) and item.type is StringType.SLL for item in markers)
            for index in reversed(drop):
                del markers[index]
            for entry in add:
                markers.append(_new_string(entry, literal))
        elif isinstance(markers, String) and markers.type.is_multiline():
            table["markers"] = _edit_string_markers(markers, add, drop)
        elif isinstance(markers, String):
            table["markers"] = _as_multiline_string(markers, add, drop)
        else:
            raise RegistrationError(f"{style.label} markers is neither an array nor a string")
        edited = document.as_string()
    edited = _with_file_newlines(body, edited)
    _check_toml(body, edited, style.table, add, drop)
    return edited


def _marker_lines(value: object) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.split("\n") if line.strip()]
    return list(value) if isinstance(value, list) else []


def _check_toml(before: str, after: str, parts: tuple[str, ...], add: list[str], drop: list[int]) -> None:
    """The edit changed nothing but the marker list, and the list is what was asked."""
    try:
        old = tomllib.loads(before)
        new = tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        raise RegistrationError(f"the edited file would not be valid TOML ({exc})") from None
    old_table, new_table = old, new
    for part in parts:
        old_table = old_table.setdefault(part, {})
        new_table = new_table.get(part, {})
    old_markers = _marker_lines(old_table.pop("markers", []))
    expected = [entry for index, entry in enumerate(old_markers) if index not in set(drop)] + add
    new_markers = _marker_lines(new_table.pop("markers", []))
    if new_markers != expected or old != new:
        raise RegistrationError("internal error: the TOML edit changed more than the marker list")


# --- ini-style files ---------------------------------------------------------------


def _edit_ini(body: str, style: Style, config: PytestConfig, add: list[str], drop: list[int]) -> str:
    try:
        ini = parse_ini(body)
    except IniParseError as exc:
        raise RegistrationError(f"pytest cannot parse it: {exc}") from None
    name = style.table[0]
    section = ini.sections.get(name)
    drop_lines = {config.entries[index].line - 1 for index in drop}
    if section is not None and "markers" in section.keys:
        key = section.keys["markers"]
        if key.index in drop_lines:
            raise RegistrationError("cannot remove the entry on the `markers =` line itself")
        append_values(ini, key, add)
    elif add and section is not None:
        add_key(ini, section, "markers", add)
    elif add:
        add_section(ini, name, "markers", add)
    remove_lines(ini, drop_lines)
    edited = ini.text()
    _check_ini(body, edited, name, add, drop)
    return edited


def _ini_values(text: str) -> dict[tuple[str, str], list[str]]:
    ini = parse_ini(text)
    return {
        (section.name, key.name): [value.text for value in key.values]
        for section in ini.sections.values()
        for key in section.keys.values()
    }


def _check_ini(before: str, after: str, section: str, add: list[str], drop: list[int]) -> None:
    try:
        old = _ini_values(before)
        new = _ini_values(after)
    except IniParseError as exc:
        raise RegistrationError(f"the edited file would not parse ({exc})") from None
    old_markers = old.pop((section, "markers"), [])
    expected = [entry for index, entry in enumerate(old_markers) if index not in set(drop)] + add
    if new.pop((section, "markers"), []) != expected or old != new:
        raise RegistrationError("internal error: the edit changed more than the marker list")
