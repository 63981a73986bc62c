"""Which files a run must parse at all: the ones a finding can depend on.

Building the index parsed every file with `ast` (about 10 µs a line), which
made a cold scan of a 4-million-line monorepo take minutes, although most
files of a monorepo (tests, scripts, leaf modules) are imported by nothing,
and most of those hold nothing any rule can report. The screening reads every
file's text once and proves that of as many files as it can, cheaply:

1. A module can only be reached by a name: each import statement and
   attribute spells the last part of the module's name. Files whose name
   (file stem, or package folder) no file spells that way are *unimportable*;
   every other file, every `__init__.py` (relative imports reach packages
   without naming them) and every file named on the command line is indexed,
   as before.
2. The rules are prepared on that index (copies of them: the real ones are
   prepared on the final index).
3. An unimportable file the run reports on is indexed too when a rule names
   lines of its text where it may report (`Rule.concern_lines`): its call
   sites can only reach its own definitions and the importable modules',
   which the prepared copies know. It is parsed without the top-level
   scopes nothing on those lines depends on (`_unneeded_scopes`), their
   lines emptied so that positions do not move; the worker that screened
   it builds that entry from the text it holds.
4. The rest are never parsed: nothing reported can be in them, and nothing
   elsewhere depends on them. Their syntax is not checked either; a file named
   on the command line always is.

Module words depend on a file's text alone and are cached by stat
(words_cache.py); everything that depends on the rules is redone each run.

The real rules are then prepared on the index of steps 1 and 3, exactly as
on a full one: findings are those of a full index (tests/test_screening.py
compares both on every fixture tree and on generated monorepos).
"""

from __future__ import annotations

import bisect
import copy
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codefix.index import IndexBuilder, ModuleInfo, ProjectIndex, partial_entry
from codefix.lexical import WORD, ScreenedText, attribute_words, local_words, module_key, module_words, split_lines, top_level_segments, word_offsets
from codefix.parallel import ordered_map
from codefix.progress import NoProgress, Progress
from codefix.resolution import Resolver
from codefix.rules import ALL_RULES
from codefix.rules.base import NeedleSightings, ProjectRule, Rule
from codefix.sourcefile import SourceError, read_source
from codefix.words_cache import WordsCache

#: Files whose every word may name a module: packages re-export, conftests list `pytest_plugins` in strings.
_READ_WHOLE = frozenset({"__init__.py", "conftest.py"})

#: False indexes every file (tests compare the two).
SCREEN = True


@dataclass
class ScreenedIndex:
    index: ProjectIndex
    #: Relative names of the files of the walk that were never parsed: nothing this run reports can be in them.
    skipped: frozenset[str]
    #: Which files hold the project rules' needles; None when the screening did not read them.
    needles: NeedleSightings | None = None


#: Every project rule's `text_needle`, whichever rules run: the words cache records them all.
TEXT_NEEDLES: tuple[str, ...] = tuple(
    sorted({rule.text_needle for rule in ALL_RULES if issubclass(rule, ProjectRule) and rule.text_needle})
)


def _words_of(file: str) -> tuple[tuple[int, int] | None, set[str] | None, frozenset[str]]:
    """The stat signature, module words and `TEXT_NEEDLES` held of one file (by its path's text); words None when it cannot be read or decoded."""
    path = Path(file)
    try:
        stat = path.stat()
        text = read_source(path).text
    except (OSError, SourceError):
        return None, None, frozenset()
    needles = frozenset(needle for needle in TEXT_NEEDLES if needle in text)
    return (stat.st_mtime_ns, stat.st_size), module_words(text, whole=path.name in _READ_WHOLE), needles


@dataclass
class _Spelled:
    #: Every module word of the project.
    words: set[str]
    #: The files that could not be read, by their paths' text.
    unreadable: set[str]
    #: Which of the files read hold each of `TEXT_NEEDLES`.
    needles: NeedleSightings


def _spelled_words(builder: IndexBuilder, workers: int, progress: Progress) -> _Spelled:
    """What the screening reads of every file of the walk (`_Spelled`); unchanged files from the cache.

    Files go by the text of their paths and by their relative names: on a
    warm run this loop is most of the work, and a pathlib path costs a
    Python call to hash.
    """
    cache = WordsCache(builder.cache.folder) if builder.cache is not None else None
    spelled: set[str] = set()
    unreadable: set[str] = set()
    holding: dict[str, set[str]] = {needle: set() for needle in TEXT_NEEDLES}
    to_read: list[tuple[str, str]] = []
    for file, relative in builder.relatives.items():
        known = None
        if cache is not None and cache.holds(relative):
            signature = builder.signature(file)
            if signature is not None:
                known = cache.lookup(relative, signature)
        if known is None:
            to_read.append((file, relative))
        else:
            spelled |= known[0]
            for needle in known[1]:
                holding[needle].add(relative)
    progress.phase("Reading", len(to_read))
    files = [file for file, _ in to_read]
    for (file, relative), (signature, words, needles) in zip(to_read, ordered_map(_words_of, files, (), workers)):
        progress.advance()
        if words is None:
            unreadable.add(file)
            continue
        spelled |= words
        for needle in needles:
            holding[needle].add(relative)
        if cache is not None and signature is not None:
            cache.store(relative, signature, words, needles)
    if cache is not None:
        cache.forget_missing(set(builder.relatives.values()))
        cache.save()
    unread = {builder.relatives[file] for file in unreadable}
    read = frozenset(relative for relative in builder.relatives.values() if relative not in unread)
    sightings = NeedleSightings(read, {needle: frozenset(names) for needle, names in holding.items()})
    return _Spelled(spelled, unreadable, sightings)


#: What the screening learns of a file nobody imports: whether a rule may report something in it,
#: the lines none can need, and its index entry without those lines (None: the index makes it).
Concerns = tuple[bool, tuple[tuple[int, int], ...], ModuleInfo | None]


def _concerns(file: str, rules: Sequence[Rule], builder: IndexBuilder, looked_up: frozenset[str]) -> Concerns:
    """What the screening learns of this file (by its path's text: `Concerns`); `looked_up`: the rules' `looked_up_names`.

    The entry is made here, from the text in hand: indexing such files
    afterwards read and split each one again, in another round of workers.
    """
    path = builder.path(file)
    try:
        text = read_source(path).text
    except SourceError:
        return True, (), None
    unneeded = analysis_cut(text, rules, lambda: builder.package_of(file), looked_up)
    if unneeded is None:
        return False, (), None
    if not unneeded:
        return True, (), None
    return True, unneeded, partial_entry(text, path, builder.relatives[file], builder.module_name(file), unneeded)


def analysis_cut(
    text: str,
    rules: Sequence[Rule],
    package_of: Callable[[], str] | None = None,
    looked_up: frozenset[str] | None = None,
) -> tuple[tuple[int, int], ...] | None:
    """The top-level scopes of a file that none of `rules` can report in or depend on; None: no rule can report at all.

    A file's findings stand on its concern lines, and depend on nothing but
    the scopes `_unneeded_scopes` keeps: the screening cuts a file nobody
    imports so (`_concerns`), and the engine a large module that others
    import (indexed whole) before it parses it for its own analysis.
    `looked_up`: the rules' `looked_up_names`, when the caller has them.
    """
    screened = ScreenedText(text, package_of)
    lines: set[int] = set()
    for rule in rules:
        found = rule.concern_lines(screened)
        if found is None:
            return ()
        lines |= found
    if not lines:
        return None
    if looked_up is None:
        looked_up = frozenset().union(*(rule.looked_up_names() for rule in rules))
    return _unneeded_scopes(text, lines, looked_up)


_DEFINED_NAME = re.compile(r"^(?:async[ \t]+)?(def|class)[ \t]+([^\W\d]\w*)", re.M)
#: Leave a file whole unless this share of its lines can go.
_WORTH_BLANKING = 0.5


def _unneeded_scopes(
    text: str, concern_lines: set[int], looked_up: frozenset[str] = frozenset()
) -> tuple[tuple[int, int], ...]:
    """Top-level `def`s and `class`es of a file nobody imports that nothing reportable can depend on.

    Kept: all module-level code; any scope holding a line where a rule may
    report (`Rule.concern_lines`) or spelling `global` (a `nonlocal` rebinds
    a name of a function around it, inside the scope: nothing outside); then,
    until nothing changes, any scope whose name kept code spells, or which
    spells a name kept code binds where other scopes can see it (an object
    bound to a target's call, used elsewhere: `_visible_bindings`), or which
    defines a name a rule looks up (`looked_up`). Since nobody imports the
    file, the rest can matter to nothing: its lines are emptied before the
    index and the analysis parse it (`index.partial_text`).
    """
    lines = split_lines(text)
    signals = sorted(concern_lines)
    added: list[tuple[str, bool]] = []  # (text, is a function) of what is kept
    pending: list[tuple[int, int, str, str | None, bool]] = []
    for first, last, is_scope in top_level_segments(lines):
        part = "".join(lines[first - 1 : last])
        named = _DEFINED_NAME.search(part) if is_scope else None
        is_function = named is not None and named.group(1) == "def"
        at = bisect.bisect_left(signals, first)
        if not is_scope or (at < len(signals) and signals[at] <= last) or "global" in part:
            added.append((part, is_function))
            continue
        pending.append((first, last, part, named.group(2) if named else None, is_function))
    if len(pending) < 2:
        return ()
    spelled: set[str] = set(looked_up)
    bound: set[str] = set()
    while added and pending:
        for part, is_function in added:
            spelled |= set(WORD.findall(part))
            bound |= _visible_bindings(part, is_function)
        still: list[tuple[int, int, str, str | None, bool]] = []
        added = []
        for candidate in pending:
            _, _, part, name, is_function = candidate
            if name is None or name in spelled or _spells_any(part, bound):
                added.append((part, is_function))
            else:
                still.append(candidate)
        pending = still
    unneeded = [(first, last) for first, last, _, _, _ in pending]
    if sum(last - first + 1 for first, last in unneeded) < _WORTH_BLANKING * len(lines):
        return ()
    return tuple(unneeded)


def _visible_bindings(part: str, is_function: bool) -> set[str]:
    """Names `part` may bind where another top-level scope can see them (`local_words`, less a function's locals).

    A name a function binds bare (`value = ...`, `for row in`, `as client`)
    is its own local, unless it declares it `global` (or `nonlocal`, for a
    function inside it): other scopes see what it binds only through an
    attribute (`self.client = ...`), so only names it writes after a dot
    count. Module-level code and class bodies (`Repo.client`) bind for
    everyone. Counting a long function's locals kept every function that
    used a name as common as `payload`, which was most of a real module.
    """
    words = local_words(part)
    if not is_function or "global" in part or "nonlocal" in part:
        return words
    return words & attribute_words(part)


def _spells_any(text: str, words: set[str]) -> bool:
    """Whether `text` spells one of `words` as a whole word; substring search first, it is most of the answer."""
    present = [word for word in words if word in text]
    return bool(present) and bool(word_offsets(text, present))


def _uncovered(rules: list[Rule]) -> list[Rule]:
    """The prepared rules whose concern lines no other rule's already hold (`Rule.concerns_covered_by`).

    A rule is dropped when a rule after it, or one kept before it, covers
    it: of two rules covering each other (the same words), the last stays.
    """
    kept: list[Rule] = []
    for position, rule in enumerate(rules):
        others = [other for at, other in enumerate(rules) if at != position and (other in kept or at > position)]
        if not any(rule.concerns_covered_by(other) for other in others):
            kept.append(rule)
    return kept


def screened_index(
    builder: IndexBuilder,
    rules: Sequence[Rule],
    named: Iterable[str],
    workers: int,
    progress: Progress | None = None,
    targets: Iterable[str] | None = None,
) -> ScreenedIndex:
    """Index what the rules may need (see the module docstring).

    `named`: relative names always indexed. `targets`: the relative names a
    run reports on (None: all); an unimportable file that is not one can
    matter to nothing reported, and is not even screened.
    """
    progress = progress or NoProgress()
    files = builder.files
    if not SCREEN:
        builder.add(files, progress)
        return ScreenedIndex(builder.finish(), frozenset())
    read = _spelled_words(builder, workers, progress)
    spelled, unreadable = read.words, read.unreadable
    named = set(named)
    eager, rest = [], []
    for file, relative in builder.relatives.items():
        if (
            relative in named
            or relative.rpartition("/")[2] == "__init__.py"
            or module_key(relative) in spelled
            or (unreadable and file in unreadable)
        ):
            eager.append(file)
        else:
            rest.append(file)
    builder.add(eager, progress)
    if targets is not None:
        reported = set(targets)
        rest = [file for file in rest if builder.relatives[file] in reported]
    progress.phase("Screening", len(rest))
    concerned, unneeded, built = _screen(rest, rules, builder, workers, progress) if rest else ([], {}, {})
    builder.add(concerned, progress, unneeded, built)
    indexed = {builder.relatives[file] for file in (*eager, *concerned)}
    skipped = frozenset(relative for relative in builder.relatives.values() if relative not in indexed)
    return ScreenedIndex(builder.finish(), skipped, read.needles)


def _screen(
    rest: list[str], rules: Sequence[Rule], builder: IndexBuilder, workers: int, progress: Progress
) -> tuple[list[str], dict[str, tuple[tuple[int, int], ...]], dict[str, ModuleInfo]]:
    """Steps 2 and 3 for the files nobody imports (by their paths' text): those a rule may report in, their unneeded lines and entries.

    Not called when there are none (a scan of named files, as pre-commit's):
    preparing the probes was a tenth of such a run.
    """
    probes = [copy.deepcopy(rule) for rule in rules]
    resolver = Resolver(builder.index)
    for probe in probes:
        probe.prepare(builder.index, resolver)
    looked_up = frozenset().union(*(probe.looked_up_names() for probe in probes))
    probes = _uncovered(probes)
    concerned: list[str] = []
    unneeded: dict[str, tuple[tuple[int, int], ...]] = {}
    built: dict[str, ModuleInfo] = {}
    for file, (needed, lines, entry) in zip(rest, ordered_map(_concerns, rest, (probes, builder, looked_up), workers)):
        progress.advance()
        if needed:
            concerned.append(file)
            if lines:
                unneeded[file] = lines
            if entry is not None:
                built[file] = entry
    return concerned, unneeded, built
