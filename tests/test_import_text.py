"""`from` imports read from the text (import_text.py), against the `ast` of the same text.

Soundness is what matters: whenever `FromImports.bindings(name)` answers
(not None), its answer must hold every `from` import binding `name` that
the parsed tree has, and nothing else. `defines_function` and `written_after_a_dot` must
never miss what the tree holds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codefix.import_text import FromImport, FromImports
from codefix.lexical import defines_function, written_after_a_dot
from conftest import parseable_texts

SHAPES = {
    "plain": ("from pkg.mod import a, b as c\n", {"a": [FromImport(0, "pkg.mod", "a")], "c": [FromImport(0, "pkg.mod", "b")]}),
    "relative": ("from . import a\nfrom ..up import b\n", {"a": [FromImport(1, "", "a")], "b": [FromImport(2, "up", "b")]}),
    "parenthesized": (
        "from pkg import (\n    a,  # first\n    b as c,\n)\n",
        {"a": [FromImport(0, "pkg", "a")], "c": [FromImport(0, "pkg", "b")]},
    ),
    "backslash": ("from pkg import a, \\\n    b\n", {"a": [FromImport(0, "pkg", "a")], "b": [FromImport(0, "pkg", "b")]}),
    "indented twice": (
        "try:\n    from fast import a\nexcept ImportError:\n    from slow import a\n",
        {"a": [FromImport(0, "fast", "a"), FromImport(0, "slow", "a")]},
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shapes(shape: str):
    text, expected = SHAPES[shape]
    imports = FromImports(text)
    for name, bindings in expected.items():
        assert imports.bindings(name) == bindings
    assert imports.bindings("other") == []


@pytest.mark.parametrize(
    "text",
    [
        "x = 1; from pkg import a\n",
        "from pkg import *\n",
        "from pkg import a; a = 2\n",
        "from pkg \\\n    import a\n",
    ],
)
def test_what_it_cannot_read_plainly_is_unknown(text: str):
    assert FromImports(text).bindings("a") is None


def test_defines_and_written_after_a_dot():
    text = "class A:\n    async def handle(self):\n        return self.\\\n            load()\n\n\ndef undef_handle():\n    pass\n"
    assert defines_function(text, "handle") and not defines_function(text, "undef") and not defines_function(text, "load")
    assert written_after_a_dot(text, "load") and not written_after_a_dot(text, "handle")


def _texts() -> list[str]:
    import asyncio
    import email
    import json
    import logging

    folders = [Path(module.__file__).parent for module in (asyncio, email, json, logging)]
    paths = [path for folder in folders for path in sorted(folder.glob("*.py"))]
    paths += sorted((Path(__file__).parent / "fixtures").rglob("*.py"))
    return parseable_texts(paths)


def test_every_answer_holds_every_binding_the_tree_has():
    answered = 0
    for text in _texts():
        tree = ast.parse(text)
        expected: dict[str, list[FromImport]] = {}
        defined, dotted = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        expected.setdefault(alias.asname or alias.name, []).append(FromImport(node.level, node.module or "", alias.name))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute):
                dotted.add(node.attr)
        imports = FromImports(text)
        for name, bindings in expected.items():
            found = imports.bindings(name)
            if found is not None:
                assert sorted(found, key=repr) == sorted(bindings, key=repr), name
                answered += 1
        for name in defined:
            assert defines_function(text, name), name
        for name in dotted:
            assert written_after_a_dot(text, name), name
    assert answered > 100
