"""The text's plain aliases (`fetch = load`), as the prefilters read them.

The oracle is the tree: every one-line `name = dotted` statement `ast` finds
(`reference_aliases`, the shapes the resolver follows) must be read from
the text, both ways (`values` and `names_for`), over the fixture trees and
asyncio's sources. The text may read more (a line inside a string), never less.
"""

from __future__ import annotations

import ast
import sysconfig
import warnings
from pathlib import Path

import pytest

from codefix.assigned_aliases import AssignedAliases
from test_index_walk import reference_aliases

FIXTURES = Path(__file__).parent / "fixtures"

SHAPES = """\
import pkg.ws as ws
from pkg import load, factory

fetch = load
first = second = pkg.ws.make  # a chain
typed: Callable[[], None] = load
x = 1; after_semicolon = factory
compared == load
called = load()
subscripted = table[load]
keep = None
produced = (yield)
grab = factory
take = grab
loop_a = loop_b
loop_b = loop_a


def f(make):
    local = make
    self.attribute = load
    for looped in load:
        pass
    return local
"""


def test_values_are_the_names_assigned_plainly():
    aliases = AssignedAliases(SHAPES)
    assert aliases.values("fetch") == {"load"}
    assert aliases.values("first") == aliases.values("second") == {"pkg.ws.make"}
    assert aliases.values("typed") == {"load"}
    assert aliases.values("after_semicolon") == {"factory"}
    assert aliases.values("local") == {"make"}
    for not_an_alias in ("compared", "called", "subscripted", "keep", "produced", "attribute", "looped", "x", "load"):
        assert aliases.values(not_an_alias) == frozenset(), not_an_alias


def test_names_for_follows_chains_back_to_the_words():
    names = AssignedAliases(SHAPES).names_for(["factory", "load", "make"])
    assert names == {
        "fetch": {"load"},
        "typed": {"load"},
        "after_semicolon": {"factory"},
        "grab": {"factory"},
        "take": {"factory"},
        "first": {"make"},
        "second": {"make"},
        "local": {"make"},
    }


def test_callees_take_each_alias_of_the_head():
    aliases = AssignedAliases(SHAPES)
    assert aliases.callees(["fetch"]) == {"fetch", "load"}
    assert aliases.callees(["first"]) == {"first", "pkg.make"}
    assert aliases.callees(["take.run"]) == {"take.run", "grab.run", "factory.run"}
    assert aliases.callees(["loop_a"]) == {"loop_a", "loop_b"}  # a cycle ends
    assert aliases.callees(["self.load"]) == {"self.load"}


def test_a_long_chain_of_aliases_is_read_to_its_end():
    text = "".join(f"name_{n + 1} = name_{n}\n" for n in range(40))
    assert AssignedAliases(text).names_for(["name_0"])["name_40"] == {"name_0"}
    assert "name_0" in AssignedAliases(text).callees(["name_40"])


def _parseable_texts(files: list[Path]) -> list[tuple[Path, str, ast.Module]]:
    texts = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                texts.append((path, text, ast.parse(text)))
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
    return texts


def _assert_every_alias_is_read(files: list[Path]) -> int:
    read = 0
    for path, text, tree in _parseable_texts(files):
        expected = reference_aliases(tree, text)
        aliases = AssignedAliases(text)
        for name, values in expected.items():
            assert values <= aliases.values(name), (path, name)
            for value in values:
                assert value.rpartition(".")[2] in aliases.names_for([value.rpartition(".")[2]]).get(name, ()) or (
                    name == value.rpartition(".")[2]
                ), (path, name, value)
            read += len(values)
    return read


def test_every_alias_of_the_fixture_trees_is_read():
    assert _assert_every_alias_is_read(sorted(FIXTURES.rglob("*.py"))) >= 10


@pytest.mark.slow
def test_every_alias_of_asyncio_and_the_email_package_is_read():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((stdlib / "asyncio").rglob("*.py")) + sorted((stdlib / "email").rglob("*.py"))
    assert _assert_every_alias_is_read(files) >= 50
