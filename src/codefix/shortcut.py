"""A remembered scan, answered before LibCST, the rules and the option parser are imported.

When nothing changed since the last scan, the results memo (results_memo.py)
already holds every finding, yet loading the analysis stack to ask it costs
more than the rest of the run: on a 10,000-file project, importing LibCST,
the rules and typer took ~0.45 s of a ~1 s warm scan, and pre-commit pays
that on every commit. So a full scan also records a *shortcut* for its
command (`--rule`, `--config`, `--force-exclude`; not the paths, whatever
they are the checks below hold): what it learnt from the configuration,
namely the project root, the configuration file, the walk's exclusion
patterns, the run key and which rules work file by file or project-wide.

A later run of the same command re-checks each thing the shortcut assumed
before trusting it: the root and the governing configuration file are found
again, the tree is walked again with the same exclusion, and the results
memo must hold the project state those give (the state covers every
Python file's and the configuration file's size and mtime, the codefix
version, the rules and their settings). Only then are the remembered
findings printed, as text or JSON. Any doubt (a flag this module does not
know, another output format, an unknown state, a project rule never run on
these paths, any exception) returns None and the full
command line runs, which gives the same result more slowly: the shortcut
can make a run faster, never different.

When the shortcut misses because a file changed (pre-commit on a file just
edited), the full run that follows in the same process would walk the tree
and sign every file again, as the shortcut just did: a third of a one-file
scan of 10,000 files. The shortcut hands its walk and the project state over
(`Handover`); the full run uses them only when it would compute the very
same ones (same root, paths, exclusion, run key, configuration file), and
only during that command (`handed_over`). That full run is plain_scan.py's:
the engine on the command this module read, without the option parser.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Flags that change nothing but how the remembered result is printed.
_SWITCHES = {"--quiet": "quiet", "-q": "quiet", "--exit-zero": "exit_zero", "--no-color": "no_color"}
#: Options taking a value; `--jobs` only sizes the indexing pool, which a remembered scan does not use.
_VALUED = ("--rule", "--config", "--jobs", "-j", "--format")


@dataclass(frozen=True)
class ScanCommand:
    """`codefix scan ...` as typed, when this module understands every argument of it."""

    paths: tuple[str, ...]
    rules: tuple[str, ...]
    config_file: str | None
    force_exclude: bool | None
    output_format: str = "text"
    quiet: bool = False
    exit_zero: bool = False
    no_color: bool = False
    #: `--jobs`: a remembered scan has no use for it; a missed one runs with it (plain_scan.py).
    jobs: int | None = None


def parse_scan(argv: Sequence[str]) -> ScanCommand | None:
    """The command, or None for anything but a plain text or JSON `scan` (the full parser handles the rest)."""
    if not argv or argv[0] != "scan":
        return None
    paths: list[str] = []
    rules: list[str] = []
    config_file = None
    force_exclude = None
    output_format = "text"
    jobs = None
    switches = {"quiet": False, "exit_zero": False, "no_color": False}
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if arg in _SWITCHES:
            switches[_SWITCHES[arg]] = True
        elif arg in ("--force-exclude", "--no-force-exclude"):
            force_exclude = arg == "--force-exclude"
        elif arg.split("=", 1)[0] in _VALUED:
            name, _, value = arg.partition("=")
            if not _:
                if not args:
                    return None
                value = args.pop(0)
            if name == "--rule":
                rules.append(value)
            elif name == "--config":
                config_file = os.path.abspath(value)
            elif name == "--format":
                if value not in ("text", "json"):
                    return None
                output_format = value
            elif name in ("--jobs", "-j"):
                if not (value.isdigit() and int(value) >= 1):
                    return None
                jobs = int(value)
        elif arg.startswith("-") or not vouches_for_path(arg):
            return None  # an unknown flag, or a path this module does not vouch for (a pytest config file, say)
        else:
            paths.append(str(Path(arg)))
    return ScanCommand(tuple(paths or ["."]), tuple(rules), config_file, force_exclude, output_format, **switches, jobs=jobs)


def vouches_for_path(path: str) -> bool:
    """A Python file or a folder; a named pytest configuration widens what the project rules check (config_targets.py)."""
    return path.endswith(".py") or os.path.isdir(path)


def command_key(rules: Sequence[str], config_file: str | None, force_exclude: bool | None) -> str:
    """What names a command for the memo: the same for the full run that records it and the shortcut that reads it.

    `config_file` is absolute: the same command from another folder is the same command.
    """
    described = [sys.version_info[:2], list(rules), config_file, force_exclude]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


@dataclass(frozen=True)
class Handover:
    """What a shortcut that missed computed, for the full run of the same command (see the module docstring)."""

    root: Path
    paths: tuple[Path, ...]
    exclusion: Any
    #: `walk_project`'s answer (`discovery.ProjectWalk`).
    walk: Any
    run_key: str
    config: Path | None
    #: `project_state` of the walk's files (and the targets outside the root), the run key and `config`.
    state: str
    #: The command, as read whole by `parse_scan`.
    command: ScanCommand | None = None
    #: Each file's (size, mtime_ns) as `project_state` signed it, by its path's text.
    signatures: dict[str, tuple[int, int] | None] | None = None


_handover: Handover | None = None


@contextlib.contextmanager
def handed_over(handover: Handover | None) -> Iterator[None]:
    """Offer `handover` to the full run inside this block only: a later command must walk for itself."""
    global _handover
    _handover = handover
    try:
        yield
    finally:
        _handover = None


def walk_handed_over(root: Path, paths: Sequence[Path], exclusion: Any):  # -> ProjectWalk | None
    """The walk the shortcut made, if it walked this root, these paths, with this exclusion."""
    handover = _handover
    if handover is None or handover.root != root or handover.paths != tuple(paths) or handover.exclusion != exclusion:
        return None
    return handover.walk


def state_handed_over(files: list[str], run_key: str, config: Path | None) -> tuple[str, dict[str, tuple[int, int] | None]] | None:
    """The project state the shortcut computed, and the files' signatures it took, if from this very walk's files, this run key and configuration file."""
    handover = _handover
    if handover is None or handover.walk.file_texts is not files or handover.run_key != run_key or handover.config != config:
        return None
    return handover.state, handover.signatures or {}


def remembered_result(command: ScanCommand, missed: list[Handover] | None = None):  # -> RunResult | None, imported lazily like everything here
    """The command's result from the memo, when every assumption of its recorded shortcut still holds.

    `missed`: where to put what was computed on the way, when the memo then does not hold the result.
    """
    from codefix.config_files import find_config_file
    from codefix.discovery import (
        Exclusion,
        find_project_root,
        forget_resolutions,
        missing_paths,
        outside_root,
        relative_name_of_resolved,
        walk_project,
    )
    from codefix.results_memo import CACHE_DIR, ResultsMemo, project_rule_key, project_state, recall

    forget_resolutions()  # as a full run does: links may have changed since an earlier run in this process
    paths = tuple(Path(path) for path in command.paths)
    if missing_paths(paths):
        return None  # the full command line says which
    root = find_project_root(paths[0])
    memo = ResultsMemo(root / CACHE_DIR, "")
    entry = memo.shortcut(command_key(command.rules, command.config_file, command.force_exclude))
    if entry is None or entry.get("root") != str(root):
        return None
    if command.config_file is not None:
        config = Path(command.config_file).resolve()
    else:
        config = find_config_file(paths[0], root)
    if entry.get("config") != (str(config) if config is not None else None):
        return None
    base, patterns, respect_gitignore, force = entry["exclusion"]
    exclusion = Exclusion(Path(base), tuple(patterns), respect_gitignore, force)
    walk = walk_project(root, paths, exclusion)
    targets, unlistable = walk.targets, walk.unlistable
    outside = outside_root(targets, root)
    signatures: dict[str, tuple[int, int] | None] = {}
    state = project_state(root, [*walk.file_texts, *outside], entry["run_key"], config, signatures)
    memo.move_to(state)
    names = {target: relative_name_of_resolved(target, root) for target in targets}
    keys = [project_rule_key(rule_id, names.values()) for rule_id in entry["project_rules"]]
    result = recall(memo, root, targets, names, unlistable, entry["per_file"], keys)
    if result is None and missed is not None:
        missed.append(Handover(root, paths, exclusion, walk, entry["run_key"], config, state, command, signatures))
    return result


def shortcut_entry(root: Path, config: Path | None, exclusion: Any, run_key: str, per_file: bool, project_rules: Sequence[str]) -> dict[str, Any]:
    """What `remembered_result` needs of a full run, as JSON."""
    described = [str(exclusion.base), list(exclusion.patterns), exclusion.respect_gitignore, exclusion.force]
    return {
        "root": str(root),
        "config": str(config) if config is not None else None,
        "exclusion": described,
        "run_key": run_key,
        "per_file": per_file,
        "project_rules": list(project_rules),
    }


def run(argv: Sequence[str]) -> int | None:
    """Print a remembered scan and return its exit code; None when the full command line must run."""
    return run_or_hand_over(argv)[0]


def run_or_hand_over(argv: Sequence[str]) -> tuple[int | None, Handover | None]:
    """`run`, and when it returns None, what the full run may reuse (see `handed_over`)."""
    if os.environ.get("CODEFIX_NO_SHORTCUT"):
        return None, None
    command = parse_scan(argv)
    if command is None:
        return None, None
    missed: list[Handover] = []
    try:
        result = remembered_result(command, missed)
    except Exception:  # noqa: BLE001 - any doubt: the full run decides, and reports properly
        return None, None
    if result is None:
        return None, missed[0] if missed else None
    return print_result(command, result), None


def print_result(command: ScanCommand, result) -> int:  # result: RunResult
    """Print the scan's result as `codefix scan` prints it in text or JSON, and return its exit code."""
    from codefix.reporting import NO_COLOR, findings_as_json, make_console, print_report

    token = NO_COLOR.set(True) if command.no_color else None
    try:
        console = make_console()
        if command.output_format == "json":
            console.file.write(findings_as_json(result))
            console.file.flush()
        else:
            print_report(console, result, quiet=command.quiet)
    finally:
        if token is not None:
            NO_COLOR.reset(token)
    return 1 if result.findings and not command.exit_zero else 0
