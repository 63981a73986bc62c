"""What a file's text alone says about it, read with regular expressions, never parsed.

A cold scan of a monorepo used to parse every file with `ast` to build the
project index, although most files can neither be reached by a call site's
resolution nor hold a site of their own. These over-approximations let the
screening (screening.py) prove that of a file cheaply, so it is never parsed:
- `module_words`: every word that can name a module in the file: the words of
  its import statements and every name written after a dot. A module is only
  ever reached by a name spelled in one of those places (or, for a package,
  by a relative import: packages are always indexed);
- `local_words`: every name the file may bind (`def`, `class`, `as`,
  assignment targets), under which it may call something of its own or an
  alias of something imported.

Strings and comments only add words; a word is never missed, so a file the
screen lets go really holds nothing any rule can report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator

#: Bump when what `module_words` finds (or the words cache's layout) changes: the words cache (words_cache.py) is keyed by it.
VERSION = 2

#: An identifier (a word that does not start with a digit).
WORD = re.compile(r"[^\W\d]\w*")
#: A dot and what may stand between it and the name after it: spaces, line breaks, backslashes, comments (`svc.\n    mod`).
_DOT_GAP = r"\.(?:\s|\\|#[^\n]*)*"
_AFTER_DOT = re.compile(_DOT_GAP + r"([^\W\d]\w*)")
#: No `\b` in front: a pattern starting with a literal is searched for 40 times faster ("reimport" adds words, harmless).
_IMPORT = re.compile(r"import\b")


def module_words(text: str, whole: bool = False) -> set[str]:
    """Words that may name a module here; `whole`: every word of the text (`__init__.py`, `conftest.py`)."""
    if whole:
        return set(WORD.findall(text))
    words = attribute_words(text)
    for statement in import_statements(text):
        words.update(WORD.findall(statement))
    return words


def attribute_words(text: str) -> set[str]:
    """Every name written after a dot (`svc.mod`, `self.client`), over blanks, backslashes and comments."""
    return set(_AFTER_DOT.findall(text))


def written_after_a_dot(text: str, name: str) -> bool:
    """Whether `name` is in `attribute_words(text)`, without finding every such word."""
    return re.search(_DOT_GAP + re.escape(name) + r"(?!\w)", text) is not None


def defines_function(text: str, name: str) -> bool:
    """Whether `def name` stands anywhere in the text (nested functions and methods too)."""
    pattern = r"def[ \t]+" + re.escape(name) + r"(?!\w)"
    return any(starts_word(text, found.start()) for found in re.finditer(pattern, text))


def import_statements(text: str) -> Iterator[str]:
    """Each logical line spelling `import` (an import statement, or text that looks like one), once."""
    seen: set[int] = set()
    for match in _IMPORT.finditer(text):
        statement, first = _statement_around(text, match.start(), match.end())
        if first not in seen:  # `from importer import x`: the same statement, found again
            seen.add(first)
            yield statement


def _statement_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The logical line holding `import`, and where it starts: back over `\\` continuations, on to a closing parenthesis."""
    first = text.rfind("\n", 0, start) + 1
    while first > 0 and _ends_with_backslash(text, first - 1):
        first = text.rfind("\n", 0, first - 1) + 1
    last = text.find("\n", end)
    while last >= 0 and _ends_with_backslash(text, last):
        last = text.find("\n", last + 1)
    last = len(text) if last < 0 else last
    statement = text[first:last]
    opening = statement.find("(")
    if opening >= 0 and ")" not in statement[opening:]:
        closing = text.find(")", last)
        statement = text[first : closing + 1 if closing >= 0 else len(text)]
    return statement, first


def _ends_with_backslash(text: str, newline: int) -> bool:
    """Whether the line ending at the line feed at `newline` ends with a backslash (CRLF or not)."""
    before = newline - 1
    if before >= 0 and text[before] == "\r":
        before -= 1
    return before >= 0 and text[before] == "\\"


#: Names after `def`, `class` and `as`: one pattern per keyword, each starting with a literal, which
#: the search skips ahead to (five times faster than one pattern with the three; no leading `\b`,
#: so "undef x" adds a word, harmlessly).
_DEFINED = tuple(re.compile(keyword + r"[ \t]+([^\W\d]\w*)") for keyword in ("def", "class", "as"))
#: Read on the reversed text, where the name before `=` (or `+=`, `:=`, ...) comes after it, and the
#: search can jump from one `=` to the next: ten times faster than looking before each word.
_ASSIGNED_REVERSED = re.compile(r"=[=!<>+\-*/%&|^@:]*[ \t]*(\w+)")


def local_words(text: str) -> set[str]:
    """Names the file may bind anywhere: after `def`, `class`, `as`, and before any `=` (keywords too)."""
    words: set[str] = set()
    for pattern in _DEFINED:
        words.update(pattern.findall(text))
    words.update(word[::-1] for word in set(_ASSIGNED_REVERSED.findall(text[::-1])))
    return words


_WORD_CHARACTER = re.compile(r"\w")
#: What may stand between a bound name and the `=` that binds it (`local_words`' pattern, read forwards).
_BEFORE_EQUALS = frozenset("=!<>+-*/%&|^@:")


def binds(text: str, word: str) -> bool:
    """Whether `word` is in `local_words(text)`, without finding every name the file binds.

    Looks only at the places the text spells `word` as a whole word: after
    `def`, `class` or `as` and blanks, or before blanks, `=`-like characters
    and an `=`. A rule asking about a few names pays for a few `find`s, where
    `local_words` runs four searches over the whole text.
    """
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        whole = (start == 0 or not _WORD_CHARACTER.match(text, start - 1)) and not _WORD_CHARACTER.match(text, end)
        if whole and (_after_keyword(text, start) or _before_equals(text, end)):
            return True
        start = text.find(word, start + 1)
    return False


def _after_keyword(text: str, start: int) -> bool:
    """`def`, `class` or `as`, then at least one blank, right before `start`."""
    at = start
    while at > 0 and text[at - 1] in " \t":
        at -= 1
    return at < start and text.endswith(("def", "class", "as"), 0, at)


def _before_equals(text: str, end: int) -> bool:
    """Blanks, then a run of `=`-like characters holding an `=`, right after `end`."""
    at = end
    while at < len(text) and text[at] in " \t":
        at += 1
    run_start = at
    while at < len(text) and text[at] in _BEFORE_EQUALS:
        at += 1
    return "=" in text[run_start:at]


#: Past this many words, one search for them all beats a search per word (see `word_offsets`).
_WORDS_SEARCHED_APART = 24


def starts_word(text: str, offset: int) -> bool:
    r"""Whether no word character comes right before `offset`: what a leading `\b` tests, after the search."""
    return offset == 0 or not _WORD_CHARACTER.match(text, offset - 1)


@functools.lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(re.escape(word) + r"(?!\w)")


def word_offsets(text: str, words: Iterable[str]) -> list[int]:
    r"""Where each of `words` stands as a whole word, in increasing order.

    A pattern starting with a literal is searched for by jumping from one
    occurrence of it to the next; `(?<!\w)(?:a|b|c)` tries every position
    of the text, about fifty times slower for a word or two. So each word
    gets its own search, and the character before a match is checked here;
    only many words share one search.
    """
    words = sorted(set(words), key=len, reverse=True)
    if not words:
        return []
    if len(words) > _WORDS_SEARCHED_APART:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")
        return [match.start() for match in pattern.finditer(text)]
    offsets: set[int] = set()
    for word in words:
        for match in _word_pattern(word).finditer(text):
            if starts_word(text, match.start()):
                offsets.add(match.start())
    return sorted(offsets)


#: The reversed `name(`, unless the reversed name is followed by ` def` or ` class` (`\w++` never gives back).
_CALLED_REVERSED = re.compile(r"\(\s*(\w++)(?![ \t]+(?:fed|ssalc)\b)")


def calls(text: str) -> list[tuple[int, str]]:
    """(offset, word) for each word written right before an opening parenthesis, but `def f(` and `class C(`.

    Every call's last name is one of them. Read on the reversed text, where
    the search can jump from one parenthesis to the next.
    """
    reversed_text = text[::-1]
    end = len(text)
    return [(end - match.end(1), match.group(1)[::-1]) for match in _CALLED_REVERSED.finditer(reversed_text)]


@functools.lru_cache(maxsize=64)
def _calls_reversed(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(word[::-1]) for word in sorted(words, key=len, reverse=True))
    return re.compile(r"\(\s*(" + alternatives + r")(?!\w)(?![ \t]+(?:fed|ssalc)\b)")


def calls_of(text: str, words: Iterable[str], reversed_text: str | None = None) -> list[int]:
    """Offsets of the calls (as `calls` finds them) of these words: one search for just them.

    `reversed_text`: `text[::-1]`, when the caller holds it (`ScreenedText.reversed`).
    """
    words = frozenset(words)
    if not words:
        return []
    end = len(text)
    reversed_text = text[::-1] if reversed_text is None else reversed_text
    return [end - match.end(1) for match in _calls_reversed(words).finditer(reversed_text)]


def calls_any(text: str, words: frozenset[str]) -> bool:
    """Whether the text calls one of these words (as `calls` finds calls), searching from one `(` to the next."""
    return bool(words) and _calls_reversed(words).search(text[::-1]) is not None


def called_words(text: str, reversed_text: str | None = None) -> set[str]:
    """The words of `calls`, without their offsets (one C-level search, no tuple per call); `reversed_text` as for `calls_of`."""
    reversed_text = text[::-1] if reversed_text is None else reversed_text
    return {word[::-1] for word in set(_CALLED_REVERSED.findall(reversed_text))}


#: `await`, the dotted name after it, an opening parenthesis, and (with none) what may still lead to a
#: call: `await a .b()`, `await a\\`, `(await a  # c`. No `\b` in front, which would make the search
#: try every position ("xawait f(" counts unless the caller checks `starts_word`).
AWAITED = re.compile(r"await\b\s*(?P<callee>[^\W\d][\w.]*)?(?P<call>\s*\()?(?P<on>\s*[.\\#])?")
#: APIs that take awaitables: the index and the screening both look for their calls.
AWAITABLE_CONSUMERS = ("run_until_complete", "create_task", "ensure_future", "gather", "wait_for", "shield", "run")
_REVERSED_CONSUMERS = "|".join(name[::-1] for name in AWAITABLE_CONSUMERS)
#: On the reversed text, a call of one (`(` after its name): the search jumps from one `(` to the
#: next. No boundary before the name: "rerun(" counts, harmlessly.
_CONSUMER_CALL_REVERSED = re.compile(r"\(\s*(?:" + _REVERSED_CONSUMERS + ")")
#: `as` and the name before it, on the reversed text: the search jumps from one "sa" to the next, and
#: the look back (after the literal, so the jump stays) drops `as` starting a longer word: every
#: indented `async` or `assert` matched, with the last word of the line above, a list of them per file.
_RENAMED_REVERSED = re.compile(r"sa(?<!\wsa)[\s\\]+(\w+)")


#: A word, `as`, and the plain name it binds (`get_client as warehouse`), matched at the word.
RENAMED_TO = re.compile(r"\w+[\s\\]+as[\s\\]+([^\W\d]\w*)")


def consumer_names(text: str, renamed: list[tuple[int, str]] | None = None) -> frozenset[str]:
    """`AWAITABLE_CONSUMERS`, and the names this text imports one as: `from asyncio import run as start`.

    A call of such a name hands its argument to the API as surely as a call
    spelled with the API's own name. An assignment (`start = asyncio.run`)
    is not read: looking for one cost a search of every file's text per API,
    2% of a cold scan, for a shape rarer still. `renamed`: the text's
    `renamed_words`, when the caller has them.
    """
    names = set(AWAITABLE_CONSUMERS)
    for offset, word in renamed_words(text) if renamed is None else renamed:
        if word in AWAITABLE_CONSUMERS and (bound := RENAMED_TO.match(text, offset)) is not None:
            names.add(bound.group(1))
    return frozenset(names)


def renamed_words(text: str, reversed_text: str | None = None) -> list[tuple[int, str]]:
    """(offset, word) of each word written before `as` (`import f as g`, `from m import f as g`).

    Also `with f() as g` and `except E as e`, whose word before `as` is
    rarely a plain name: callers look for particular words. `reversed_text`
    as for `calls_of`.
    """
    end = len(text)
    reversed_text = text[::-1] if reversed_text is None else reversed_text
    return [(end - match.end(1), match.group(1)[::-1]) for match in _RENAMED_REVERSED.finditer(reversed_text)]
#: What `_await_site` gives for an `await` that is no site.
_NO_SITE = ""


def _await_site(callee: str, call: str, goes_on: str) -> str | None:
    """The last name of an awaited callee; None: may be anything; `_NO_SITE`: an awaited name no call follows.

    The rules look at awaited calls only, so `await name` is no site unless
    a call may still follow it.
    """
    if callee and not call and not callee.endswith("."):
        return None if goes_on else _NO_SITE
    if not callee or callee.endswith(".") or ".." in callee:
        return None
    return callee.rpartition(".")[2]


def _names_a_consumer(reversed_text: str, renamed: list[tuple[int, str]]) -> bool:
    """Whether `_consumer_offsets` finds anything, without listing it all; `renamed`: the text's `renamed_words`."""
    return _CONSUMER_CALL_REVERSED.search(reversed_text) is not None or any(
        word in AWAITABLE_CONSUMERS for _, word in renamed
    )


def _consumer_offsets(text: str) -> list[int]:
    """Where each call or renaming import of an API taking awaitables starts (its name's first character).

    Calls of a name the text imports one as (`consumer_names`) count too.
    """
    end, reversed_text = len(text), text[::-1]
    called = [end - match.end() for match in _CONSUMER_CALL_REVERSED.finditer(reversed_text)]
    words = renamed_words(text, reversed_text)
    renamed = [offset for offset, word in words if word in AWAITABLE_CONSUMERS]
    bound = consumer_names(text, words).difference(AWAITABLE_CONSUMERS)
    return sorted(called + renamed + (calls_of(text, bound, reversed_text) if bound else []))


def awaited_callees(text: str) -> list[tuple[int, str | None]]:
    """(offset, last name of the callee) of each `await f(...)`; None for what may be awaited otherwise.

    The text alone, as `index.awaited_call_lines` reads it: a callee that is
    not plainly `name(` or `a.b.name(`, or a call of an API that takes
    awaitables (`asyncio.run(`, `gather(`, ...), gives None: "may be
    anything". `await name` that no call follows is left out.
    """
    found: list[tuple[int, str | None]] = [(offset, None) for offset in _consumer_offsets(text)]
    for match in AWAITED.finditer(text):
        last = _await_site(*match.group("callee", "call", "on"))
        if last != _NO_SITE:
            found.append((match.start(), last))
    return found


def awaited_last_names(
    text: str, renamed: list[tuple[int, str]] | None = None, reversed_text: str | None = None
) -> set[str | None]:
    """The last names `awaited_callees` gives, without their offsets: one C-level search, each distinct await judged once.

    `renamed`: the text's `renamed_words`, and `reversed_text` as for
    `calls_of`, when the caller has them.
    """
    names = {_await_site(*groups) for groups in set(AWAITED.findall(text))}
    names.discard(_NO_SITE)
    reversed_text = text[::-1] if reversed_text is None else reversed_text
    if _names_a_consumer(reversed_text, renamed_words(text, reversed_text) if renamed is None else renamed):
        names.add(None)
    return names


def module_key(relative: str) -> str:
    """The word any reference to this module must spell: its file name's stem, a package's folder name."""
    parts = relative.split("/")
    stem = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    if stem == "__init__" and len(parts) > 1:
        return parts[-2]
    return stem



#: Words `ScreenedText.binds` looks up one by one; past them, one pass for every bound name is cheaper.
_BINDS_BEFORE_SET = 8


class ScreenedText:
    """One file's text with what rules screen it by, each computed once, when first asked."""

    def __init__(self, text: str, package_of: Callable[[], str] | None = None):
        self.text = text
        self._package_of = package_of
        self._binds: dict[str, bool] = {}

    @functools.cached_property
    def package(self) -> str | None:
        """The package the file's relative imports start from (as the index names it); None: unknown.

        Asked for by few files: working it out for each cost a tenth of the screening's time.
        """
        return self._package_of() if self._package_of is not None else None

    @functools.cached_property
    def local_words(self) -> set[str]:
        return local_words(self.text)

    def binds(self, word: str) -> bool:
        """`word in self.local_words`, found by `binds` for the first few words asked about, then from the set."""
        if "local_words" in self.__dict__ or len(self._binds) >= _BINDS_BEFORE_SET:
            return word in self.local_words
        if word not in self._binds:
            self._binds[word] = binds(self.text, word)
        return self._binds[word]

    @functools.cached_property
    def reversed(self) -> str:
        """The text backwards, which several searches read (see `calls`): reversing 120 MB of text
        once per search was a tenth of a CPU-second each."""
        return self.text[::-1]

    @functools.cached_property
    def called_words(self) -> set[str]:
        return called_words(self.text, self.reversed)

    @functools.cached_property
    def renamed_words(self) -> list[tuple[int, str]]:
        return renamed_words(self.text, self.reversed)

    @functools.cached_property
    def awaited_last_names(self) -> set[str | None]:
        return awaited_last_names(self.text, self.renamed_words, self.reversed)

    @functools.cached_property
    def awaited_callees(self) -> list[tuple[int, str | None]]:
        return awaited_callees(self.text)

    def lines_of(self, offsets: Iterable[int]) -> set[int]:
        """The 1-based lines of these characters, counted as Python's tokenizer counts lines (see `lines_at`)."""
        return set(lines_at(self.text, sorted(offsets)))


def lines_at(text: str, offsets: Iterable[int]) -> Iterator[int]:
    """The 1-based line of each offset, given in increasing order, counted as the tokenizer counts lines.

    Only the text between one offset and the next is counted, at C speed:
    a table of every line start cost a Python step per line of the file,
    for the few lines a question about a file needs.
    """
    if "\r" not in text:
        line, previous = 1, 0
        for offset in offsets:
            line += text.count("\n", previous, offset)
            previous = offset
            yield line
        return
    # Running counts of LF, CR and CRLF before the offset: a CR alone, an LF alone or a CRLF ends a line.
    lf = cr = crlf = previous = 0
    for offset in offsets:
        lf += text.count("\n", previous, offset)
        cr += text.count("\r", previous, offset)
        crlf += text.count("\r\n", previous, offset)
        if 0 < previous < offset and text[previous - 1] == "\r" and text[previous] == "\n":
            crlf += 1  # a CRLF across the previous offset: in neither slice's count
        previous = offset
        split = offset > 0 and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n"
        yield lf + cr - crlf - split + 1


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SCOPE_START = ("def ", "def\t", "async ", "async\t", "class ", "class\t", "@")
#: A line at column 0 starting with one of these continues the statement before it.
_CONTINUATIONS = (")", "]", "}")


#: Characters `str.splitlines` breaks at but the tokenizer does not.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _holds_other_breaks(text: str) -> bool:
    """Whether `text` holds one of `_OTHER_BREAKS`.

    One substring search per character: a regex character class has no
    literal for the engine to jump to and stepped through every character,
    0.13 ms for a 400-line file, half a CPU-second of a cold 10k-file scan.
    """
    return any(character in text for character in _OTHER_BREAKS)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, as Python's tokenizer counts them (form feeds are not breaks).

    `str.splitlines` is five times faster and agrees unless the text holds
    a character only it breaks at, which one C-level search rules out.
    """
    if not _holds_other_breaks(text):
        return text.splitlines(keepends=True)
    return _LINE.findall(text)


def top_level_segments(lines: list[str]) -> list[tuple[int, int, bool]]:
    """(first line, last line, is a `def`/`class`) for each stretch of lines that seems to hold one top-level statement.

    A statement seems to start at each line that starts at column 0 and is
    not blank, a comment or a closing bracket; decorators join the `def` or
    `class` below them. A line at column 0 inside a string or brackets makes
    a wrong cut: `blank_scopes` users check the cut against a parse of what
    is left (see screening.py), and fall back to the whole text.
    """
    segments: list[list[int | bool]] = []
    awaiting_definition = False  # inside a decorator run: the `def`/`class` line belongs to it
    for number, line in enumerate(lines, start=1):
        if not line or line[0] in " \t\r\n\f#" or line.startswith(_CONTINUATIONS):
            continue
        is_scope = line.startswith(_SCOPE_START) and (not line.startswith("async") or line[5:].lstrip().startswith("def"))
        if awaiting_definition and is_scope:
            awaiting_definition = line.startswith("@")
            continue
        if segments:
            segments[-1][1] = number - 1
        segments.append([number, len(lines), is_scope])
        awaiting_definition = line.startswith("@")
    return [(int(first), int(last), bool(scope)) for first, last, scope in segments]


def blank_lines(lines: list[str], ranges: list[tuple[int, int]]) -> str:
    """The text with every line of `ranges` (1-based, inclusive) emptied, so every other line keeps its number."""
    kept = list(lines)
    for first, last in ranges:
        kept[first - 1 : last] = ["\n"] * (last - first + 1)
    return "".join(kept)
