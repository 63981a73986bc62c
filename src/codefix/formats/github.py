"""GitHub Actions workflow commands: one annotation per finding.

`::error file=F,line=L,col=C,endLine=..,endColumn=..,title=T::MESSAGE`, with
the escaping of the Actions toolkit's `escapeData` and `escapeProperty`
(`%`, CR and LF in the message; also `:` and `,` in property values), which
the runner undoes. Files that could not be checked become `::warning`:
they do not change codefix's exit code, so they must not look like a
failure of the job either.

The `file` property is relative to the working directory (the checkout root
in a workflow step), which is what the runner resolves it against, even when
the project root is a sub-folder of the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from codefix.types import FileError, Finding, RunResult


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    fields = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {fields}::{escape_data(message)}"


def workspace_path(root: Path, relative: str, cwd: Path | None = None) -> str:
    """`relative` (to the project root) as a path relative to the working directory, when it is under it."""
    cwd = cwd or Path.cwd()
    path = root / relative
    try:
        return Path(os.path.relpath(path, cwd)).as_posix() if path.is_relative_to(cwd) else relative
    except ValueError:  # another drive on Windows
        return relative


def finding_command(root: Path, finding: Finding) -> str:
    properties = {
        "file": workspace_path(root, finding.path),
        "line": finding.line,
        "col": finding.col,
        "endLine": finding.end_line,
        "endColumn": finding.end_col,
        "title": f"codefix ({finding.rule})",
    }
    return command("error", properties, finding.message)


def error_command(root: Path, error: FileError) -> str:
    properties = {"file": workspace_path(root, error.path), "title": "codefix (file not checked)"}
    return command("warning", properties, error.message)


def render(result: RunResult) -> str:
    lines = [finding_command(result.root, f) for f in result.findings]
    lines += [error_command(result.root, e) for e in result.errors]
    return "".join(line + "\n" for line in lines)
