"""The text-level proof that a call is entered by `async with` (rules/_entered_text.py), against `ast`.

The oracle: every call the text calls harmless is, in the parsed tree,
either no call at all (the line is inside a string) or the expression of an
`async with` item; and when client methods are checked, no name it binds
is ever the object of an un-awaited coroutine method call
(`_unawaited_method_call`, what the shape filter and the analysis report).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codefix import pyast
from codefix.lexical import called_words, calls_of
from codefix.rules._async_context_core import _entered_with_async, _unawaited_method_call
from codefix.rules._entered_text import EnteredCalls
from conftest import generated_corpus, parseable_texts

METHODS = frozenset({"execute", "fetch", "query", "insert", "command", "send", "read", "write"})

CASES = {
    "awaited": ("async def f():\n    async with ch() as c:\n        await c.execute('q')\n", True),
    "no name": ("async def f():\n    async with ch():\n        pass\n", True),
    "arguments": ("async def f(x):\n    async with ch(x, y=1) as c:  # note\n        rows = await c.fetch()\n", True),
    "other method": ("async def f():\n    async with ch() as c:\n        c.close()\n", True),
    "in a docstring": ('def f():\n    """\n    async with ch() as c:\n        await c.execute(1)\n    """\n', True),
    "unawaited": ("async def f():\n    async with ch() as c:\n        c.execute('q')\n", False),
    "assigned": ("async def f():\n    async with ch() as c:\n        rows = c.query('q')\n", False),
    "next line": ("async def f():\n    async with ch() as c:\n        rows = (c\n            .execute('q'))\n", False),
    "backslash": ("async def f():\n    async with ch() as c:\n        c.\\\n            execute('q')\n", False),
    "quoted argument": ("async def f():\n    async with ch('db') as c:\n        pass\n", False),
    "two items": ("async def f():\n    async with ch() as c, ch() as d:\n        pass\n", False),
    "called result": ("async def f():\n    async with ch()() as c:\n        pass\n", False),
    "attribute of it": ("async def f():\n    async with ch().pool as c:\n        pass\n", False),
    "plain with": ("def f():\n    with ch() as c:\n        pass\n", False),
    "awaited factory": ("async def f():\n    c = await ch()\n", False),
    "string prefix": ("x = 'async with ch() as c:'\n", False),
    "returned": ("async def f():\n    async with ch() as c:\n        return c\n", False),
    "awaited elsewhere": ("async def f():\n    async with ch() as c:\n        await c.execute(1)\n    c.execute(2)\n", False),
}


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, len(text[line_start:offset].encode("utf-8"))


def _check_against_ast(text: str, words: frozenset[str], methods: frozenset[str] | None) -> int:
    """Assert the oracle for every call the text proves harmless; returns how many real calls were proven."""
    tree = ast.parse(text)
    facts = pyast.TreeFacts(tree)
    calls = {(call.func.lineno, call.func.col_offset): call for word in words for call in facts.calls.get(word, ()) if isinstance(call.func, ast.Name)}
    entered = EnteredCalls(text, methods)
    proven = 0
    for offset in calls_of(text, words):
        if not entered.harmless(offset):
            continue
        call = calls.get(_position(text, offset))
        if call is None:
            assert "async with" in text, "a harmless call that is no call must be inside a string"
            continue
        item = facts.parents.get(call)
        assert _entered_with_async(call, item, facts.parents), (text, offset)
        assert isinstance(item, ast.withitem)
        if methods is not None and isinstance(item.optional_vars, ast.Name):
            name = item.optional_vars.id
            assert not any(_unawaited_method_call(node, methods, facts.parents) for node in facts.names.get(name, ())), (text, name)
        proven += 1
    return proven


@pytest.mark.parametrize("case", sorted(CASES))
def test_cases(case: str):
    text, proven = CASES[case]
    offsets = calls_of(text, {"ch"})
    assert offsets
    assert EnteredCalls(text, METHODS).all_harmless(offsets) is proven
    assert _check_against_ast(text, frozenset({"ch"}), METHODS) == int(proven and case != "in a docstring")


def test_without_client_methods_any_name_is_fine():
    text = CASES["unawaited"][0]
    assert not EnteredCalls(text, METHODS).all_harmless(calls_of(text, {"ch"}))
    assert EnteredCalls(text, None).all_harmless(calls_of(text, {"ch"}))
    assert _check_against_ast(text, frozenset({"ch"}), None) == 1


def _texts(tmp_path: Path) -> list[str]:
    import asyncio
    import email

    generated_corpus(tmp_path / "corpus", 120, seed=11, largest=20)
    paths = sorted((tmp_path / "corpus").rglob("*.py"))
    paths += sorted(Path(asyncio.__file__).parent.glob("*.py")) + sorted(Path(email.__file__).parent.glob("*.py"))
    paths += sorted((Path(__file__).parent / "fixtures").rglob("*.py"))
    return parseable_texts(paths)


def test_every_call_proven_harmless_in_real_code_is_entered_by_async_with(tmp_path: Path):
    """Every word called in each file stands for a target; the proof must hold for each, with and without client methods."""
    proven = 0
    for text in _texts(tmp_path):
        words = frozenset(called_words(text))
        proven += _check_against_ast(text, words, METHODS)
        _check_against_ast(text, words, None)
    assert proven > 20  # the generated corpus enters its factories correctly
