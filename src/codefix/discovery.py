"""Where the project is and which Python files belong to it.

Name resolution needs the whole project even when the user names one file
(pre-commit passes only the staged ones), so discovery answers two questions:
the project root and its files, and the subset the user asked to report on.

Folder walks skip what is not the project's own code: the folders in
`EXCLUDED_DIRS` (or the configuration's `exclude`/`extend-exclude`
patterns, see `Exclusion`), and whatever the `.gitignore` files (and
`.git/info/exclude`) say git ignores. Ignore files are read from the top of
the git work tree (or, outside git, the project root) down to each folder,
with git's own precedence: a deeper file overrides a shallower one, the last
matching line of a file wins, and a file inside an ignored folder cannot be
re-included. The patterns are matched by `pathspec`, which implements git's
wildmatch rules. A file named explicitly on the command line is always
scanned, ignored or not. Git's global excludes (`core.excludesFile`) are
personal settings and are not read.

Symlinked folders are not followed (a link may lead anywhere, or in a
circle); a symlinked file is a target under its real path, so two links to
one file make one target.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

#: Folders that never hold the project's own code: tool caches, virtual
#: environments, vendored dependencies and VCS metadata.
EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".codefix",
        ".codefix_cache",
        "site-packages",
        "build",
        "dist",
    }
)

ROOT_MARKERS = ("pyproject.toml", ".git")


def _lexical_absolute(path: Path) -> Path:
    """`path` made absolute without following symlinks (`..` is folded the way the shell does)."""
    return Path(os.path.abspath(path))


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pyproject.toml or .git, resolved.

    The search climbs from where the user points, not from where a symlink
    leads: a linked folder inside a project belongs to that project, so files
    reached through the link resolve outside the root and are never written.
    """
    start = _lexical_absolute(start)
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return _resolved(candidate)
    return _resolved(folder)


def _resolved(path: Path) -> Path:
    """`path.resolve()`, or the absolute path when links loop (RuntimeError on Python 3.11).

    A file that is not a symlink resolves to its folder's real path plus its
    name, and folders repeat across a project's thousands of files, so the
    folders' resolutions are remembered (see `forget_resolutions`): a warm
    scan of 10,000 files spent most of its time in `realpath` without it.
    """
    try:
        if path.name not in ("", ".", "..") and not path.is_symlink():
            folder = path.parent if path.is_absolute() else Path(os.getcwd(), path.parent)
            return _resolved_folder(folder) / path.name
        return path.resolve()
    except (OSError, RuntimeError):
        return _lexical_absolute(path)


@functools.lru_cache(maxsize=4096)
def _resolved_folder(folder: Path) -> Path:
    return folder.resolve()


def forget_resolutions() -> None:
    """Forget remembered folder resolutions: each run starts afresh, since links may change between runs."""
    _resolved_folder.cache_clear()


def is_excluded_dir(name: str) -> bool:
    return name in EXCLUDED_DIRS or name.endswith(".egg-info")


#: `EXCLUDED_DIRS` as the gitignore-style patterns `exclude` replaces.
DEFAULT_EXCLUDE = (*sorted(EXCLUDED_DIRS), "*.egg-info")

_GLOB_CHARS = frozenset("*?[]/\\")


@dataclass(frozen=True)
class Exclusion:
    """What folder walks skip, from `exclude`/`extend-exclude`/`respect-gitignore`/`force-exclude`.

    Patterns are gitignore-style and relative to `base` (the folder of the
    configuration file, else the project root); a path outside `base` is
    matched by its name alone. With `force`, files and folders named on the
    command line are held to the patterns too, so that pre-commit, which
    names every staged file, cannot bring an excluded file back.
    """

    base: Path
    patterns: tuple[str, ...] = DEFAULT_EXCLUDE
    respect_gitignore: bool = True
    force: bool = False

    @functools.cached_property
    def spec(self) -> pathspec.GitIgnoreSpec:
        return pathspec.GitIgnoreSpec.from_lines(self.patterns)

    @functools.cached_property
    def by_name(self) -> tuple[frozenset[str], tuple[str, ...]] | None:
        """(names, suffixes) when every pattern is a plain name or `*.suffix`, as the defaults are.

        Such patterns match a path exactly when one of its parts matches,
        which a set lookup answers several times faster than the regexes.
        """
        names, suffixes = set(), []
        for pattern in self.patterns:
            plain = pattern.removeprefix("*.")
            if not plain or _GLOB_CHARS.intersection(plain) or plain.startswith(("!", "#")) or plain != plain.strip():
                return None
            if pattern.startswith("*."):
                suffixes.append("." + plain)
            else:
                names.add(plain)
        return frozenset(names), tuple(suffixes)

    @functools.cached_property
    def base_prefix(self) -> str:
        return os.path.join(os.path.abspath(self.base), "")

    def excludes(self, path: Path, is_dir: bool) -> bool:
        # Strings, not Path arithmetic: this runs for every file and folder a walk meets.
        absolute = os.path.abspath(path)
        if absolute.startswith(self.base_prefix):
            relative = absolute[len(self.base_prefix) :].replace(os.sep, "/")
        else:  # outside the base (or the base itself): only patterns without a slash can match, by name
            relative = "" if absolute == self.base_prefix.rstrip(os.sep) else path.name
        return self.excludes_relative(relative, is_dir)

    def walk_relative(self, folder: str) -> tuple[str | None, str | None]:
        """What `excludes` computes of the entries of one folder a walk lists, computed once for them all.

        `folder` is absolute and normalized. The first item prefixes the
        name of each entry to make its path relative to `base` (None when
        the folder is not inside it: entries are then matched by name);
        the second is the name of the entry that is `base` itself, if any.
        """
        inside = os.path.join(folder, "")
        if inside.startswith(self.base_prefix):
            return inside[len(self.base_prefix) :].replace(os.sep, "/"), None
        base = self.base_prefix.rstrip(os.sep)
        return None, os.path.basename(base) if os.path.dirname(base) == folder else None

    def excludes_relative(self, relative: str, is_dir: bool) -> bool:
        """Whether the patterns match a path relative to `base` (or a bare name, for one outside it)."""
        if not relative:
            return False
        if self.by_name is not None:
            names, suffixes = self.by_name
            return any(part in names or part.endswith(suffixes) for part in relative.split("/"))
        return bool(self.spec.check_file(relative + ("/" if is_dir else "")).include)

    def excludes_named(self, path: Path) -> bool:
        """Whether a path named on the command line is skipped (only with `force`)."""
        return self.force and self.excludes(path, path.is_dir())


@dataclass(frozen=True)
class _IgnoreFile:
    """The patterns of one ignore file, and the folder they are relative to."""

    base: Path
    spec: pathspec.GitIgnoreSpec

    def prefix_of(self, folder: str) -> str:
        """The path of `folder` (absolute, normalized, at or below `base`) relative to `base`, with a
        trailing slash ("" for `base`): with an entry's name, what the patterns match."""
        return Path(folder).relative_to(self.base).as_posix() + "/" if folder != str(self.base) else ""


def _read_ignore_file(base: Path, file: Path) -> _IgnoreFile | None:
    if not file.is_file():
        return None
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError):  # a pattern git would ignore as malformed
        return None
    return _IgnoreFile(base, spec) if spec.patterns else None


def _ignore_top(folder: Path) -> Path:
    """Where ignore files start to apply: the git work tree's top, else the project root (else `folder`)."""
    for markers in ((".git",), ROOT_MARKERS):
        for candidate in (folder, *folder.parents):
            if any((candidate / marker).exists() for marker in markers):
                return candidate
    return folder


def _inherited_ignores(folder: Path) -> list[_IgnoreFile]:
    """The ignore files that apply inside `folder`, its own included, shallowest first."""
    top = _ignore_top(folder)
    found = [_read_ignore_file(top, top / ".git" / "info" / "exclude")]
    for base in reversed((folder, *folder.parents)):
        if base.is_relative_to(top):
            found.append(_read_ignore_file(base, base / ".gitignore"))
    return [item for item in found if item is not None]


def iter_python_files(
    folder: Path, errors: list[tuple[Path, str]] | None = None, exclusion: Exclusion | None = None
) -> Iterator[Path]:
    """Every `.py` file under `folder`, skipping excluded and git-ignored paths, in a stable order.

    Folders that cannot be listed are skipped; with `errors`, each is added
    there with its reason, for the caller to report. Without `exclusion`,
    `EXCLUDED_DIRS` and the ignore files decide.
    """
    for path, _ in walk_python_files(folder, errors, exclusion):
        yield path


def walk_python_files(
    folder: Path, errors: list[tuple[Path, str]] | None = None, exclusion: Exclusion | None = None
) -> Iterator[tuple[Path, bool]]:
    """`iter_python_files`, each file with whether it is a symlink."""
    path_of = path_maker()
    for text, is_link in _walk_python_texts(folder, errors, exclusion):
        yield path_of(text), is_link


def path_maker() -> Callable[[str], Path]:
    """A function making the paths of a walk's files: each from its folder's path, made once.

    `Path(folder) / name` costs two thirds of `Path(text)`, which parses the
    whole path again for every file.
    """
    folders: dict[str, Path] = {}

    def path_of(text: str) -> Path:
        here, _, name = text.rpartition(os.sep)
        parent = folders.get(here)
        if parent is None:
            parent = folders[here] = Path(here)
        return parent / name

    return path_of


def _walk_python_texts(
    folder: Path, errors: list[tuple[Path, str]] | None = None, exclusion: Exclusion | None = None
) -> Iterator[tuple[str, bool]]:
    """`walk_python_files`, each file's path as text (`os.DirEntry.path`): no pathlib object per file.

    Folders are listed with `os.scandir`, whose entries know their type
    from the listing itself, and every per-entry question (excluded,
    ignored, a link) is answered from strings computed once per folder: a
    walk of 10,000 files took 0.3 s of every cold run as `os.walk` plus
    `pathlib`, which stat each file twice. Folders are entered depth first,
    in name order, files before subfolders, as `os.walk` does; linked
    folders are never entered.
    """
    top = _lexical_absolute(folder)
    exclusion = exclusion or Exclusion(top)
    inherited = _inherited_ignores(top) if exclusion.respect_gitignore else []
    pending: list[tuple[str, list[_IgnoreFile]]] = [(str(top), inherited)]
    while pending:
        here, ignores = pending.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=_entry_name)
        except OSError as exc:
            if errors is not None:
                errors.append((Path(exc.filename or top), f"cannot list folder: {exc.strerror or exc}"))
            continue
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            (folders if _is_folder(entry) else files).append(entry)
        if exclusion.respect_gitignore and here != str(top) and any(entry.name == ".gitignore" for entry in files):
            own = _read_ignore_file(Path(here), Path(here, ".gitignore"))
            if own is not None:
                ignores = [*ignores, own]
        skipped = _EntryFilter(exclusion, ignores, here)
        subfolders = [entry.path for entry in folders if not skipped(entry.name, True) and not _is_link(entry)]
        pending.extend((path, ignores) for path in reversed(subfolders))
        for entry in files:
            if entry.name.endswith(".py") and not skipped(entry.name, False):
                is_link = _is_link(entry)
                if not is_link or _resolvable(Path(entry.path)):
                    yield entry.path, is_link


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """As `os.walk` sorts entries: a link to a folder is a folder (never entered, though)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


class _EntryFilter:
    """Whether an entry of one folder is excluded or git-ignored, from strings computed once for the folder."""

    def __init__(self, exclusion: Exclusion, ignores: Sequence[_IgnoreFile], folder: str):
        self.exclusion = exclusion
        self.prefix, self.base_name = exclusion.walk_relative(folder)
        # Deepest first: the deepest ignore file with a matching line decides.
        self.ignores = [(ignore.spec, ignore.prefix_of(folder)) for ignore in reversed(ignores)]

    def __call__(self, name: str, is_dir: bool) -> bool:
        if self.prefix is not None:
            relative = self.prefix + name
        else:
            relative = "" if name == self.base_name else name
        if self.exclusion.excludes_relative(relative, is_dir):
            return True
        slash = "/" if is_dir else ""
        for spec, prefix in self.ignores:
            verdict = spec.check_file(prefix + name + slash).include
            if verdict is not None:
                return verdict
        return False


def _resolvable(path: Path) -> bool:
    """False for a symlink loop, which no reader can follow (and Path.resolve raises on)."""
    try:
        path.resolve()
    except (OSError, RuntimeError):
        return False
    return True


def select_files(
    paths: Sequence[Path],
    errors: list[tuple[Path, str]] | None = None,
    exclusion: Exclusion | None = None,
    walked: tuple[Path, Callable[[], Sequence[Path]], Sequence[tuple[Path, str]], set[Path]] | None = None,
) -> list[Path]:
    """The Python files named by the user: files as given, folders walked; each real file once.

    With `errors`, folders that could not be listed are added there (see
    `iter_python_files`). A named file or folder is taken even when excluded,
    unless `exclusion.force` (see `Exclusion`). `walked` is a walk already
    made with the same `exclusion` (folder, its files, the folders it could
    not list, its files that are links; the folder resolved), reused for a path naming that folder:
    `codefix scan .` walks the tree once, not twice.
    """
    seen: dict[Path, None] = {}
    for path in paths:
        if exclusion is not None and exclusion.excludes_named(path):
            continue
        if walked is not None and _lexical_absolute(path) == walked[0]:
            # A walk from a resolved folder enters no linked folder: only linked files need resolving.
            seen.update(dict.fromkeys(_resolved(file) if file in walked[3] else file for file in walked[1]()))
            if errors is not None:
                errors.extend(walked[2])
        elif path.is_dir():
            for file in iter_python_files(path, errors, exclusion):
                seen.setdefault(_resolved(file), None)
        elif path.suffix == ".py" and _resolvable(path):
            seen.setdefault(_resolved(path), None)
    return list(seen)


@dataclass
class ProjectWalk:
    """A walk of the project and the targets the paths name.

    The files are kept as the walk spelled their paths: a remembered scan
    (shortcut.py) only signs them (`results_memo.project_state`), and making
    a pathlib object of each of 40,000 files took a sixth of such a scan.
    `files` makes them, once, for a run that needs them.
    """

    #: Every Python file of the project, as text.
    file_texts: list[str]
    #: The targets the paths name.
    targets: list[Path]
    #: Folders under the paths that could not be listed, with why.
    unlistable: list[tuple[Path, str]]
    #: The files that are symlinks (`relative_names` need not ask).
    linked: frozenset[Path]

    @functools.cached_property
    def files(self) -> list[Path]:
        """Every Python file of the project."""
        return list(map(path_maker(), self.file_texts))

    @functools.cached_property
    def linked_texts(self) -> frozenset[str]:
        """`linked`, as path texts (`relative_names`)."""
        return frozenset(map(str, self.linked))


def walk_project(root: Path, paths: Sequence[Path], exclusion: Exclusion) -> ProjectWalk:
    """The project's files and the targets `paths` name (`ProjectWalk`).

    `root` is resolved (as `find_project_root` returns it); the tree is walked once.
    """
    root_unlistable: list[tuple[Path, str]] = []
    walked = list(_walk_python_texts(root, root_unlistable, exclusion=exclusion))
    texts = [text for text, _ in walked]
    linked = frozenset(Path(text) for text, is_link in walked if is_link)
    unlistable: list[tuple[Path, str]] = []
    walk = ProjectWalk(texts, [], unlistable, linked)
    walk.targets = select_files(paths, unlistable, exclusion, walked=(root, lambda: walk.files, root_unlistable, set(linked)))
    return walk


def outside_root(targets: Iterable[Path], root: Path) -> list[Path]:
    """The targets not under `root` (`codefix scan ../other.py`); both resolved, as `select_files` gives them.

    A text prefix tells: pathlib's `is_relative_to` cost 70 ms for 10,000
    targets, on every cold and every remembered scan.
    """
    inside = os.path.join(str(root), "")
    return [target for target in targets if not str(target).startswith(inside) and target != root]


def relative_name_of_resolved(path: Path, root: Path) -> str:
    """`relative_name` of a path already resolved (as `select_files` returns them): no file system access."""
    text, prefix = str(path), str(root).rstrip(os.sep) + os.sep
    if os.sep == "/" and text.startswith(prefix):  # pathlib's relative_to costs more than the rest of a warm scan
        return text[len(prefix) :]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def relative_name(path: Path, root: Path) -> str:
    """The path as reports show it: relative to the root, forward slashes."""
    return relative_name_of_resolved(_resolved(path), root)


def relative_names(files: Iterable[str | Path], root: Path, linked: Collection[str] | None = None) -> dict[str, str]:
    """`relative_name` of each file, by its path's text, resolving each folder once rather than each file.

    A file that is no symlink, in a folder that is its own real path, under
    `root`, is already resolved: its name is a slice of its text. That is
    every file of a walk from the resolved root (which enters no linked
    folder); only the others take `relative_name`'s way. A walk's 10,000
    files cost 0.4 s the other way, on every run; keyed by pathlib paths,
    which a walk no longer makes (`ProjectWalk.file_texts`), 0.15 s.
    `linked`: when all of `files` come from one walk, the texts of those
    that are symlinks (the walk knows, and asking costs a system call per file).
    """
    prefix = str(root).rstrip(os.sep) + os.sep
    real_folders: dict[str, bool] = {}
    names: dict[str, str] = {}
    for file in files:
        text = os.fspath(file)
        folder = text.rpartition(os.sep)[0]
        real = real_folders.get(folder)
        if real is None:
            real = real_folders[folder] = os.path.isabs(text) and os.path.realpath(folder) == folder
        is_link = (bool(linked) and text in linked) if linked is not None else os.path.islink(text)
        if real and text.startswith(prefix) and not is_link:
            names[text] = text[len(prefix) :].replace(os.sep, "/")
        else:
            names[text] = relative_name(Path(text), root)
    return names


def missing_paths(paths: Iterable[Path]) -> list[Path]:
    return [path for path in paths if not path.exists()]
