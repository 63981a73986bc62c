"""positions.py: every node gets the range LibCST's PositionProvider gives it.

The oracle is LibCST itself, node for node, on every fixture file, on a
slice of the standard library, and on the shapes where positions are easy
to get wrong: CRLF and lone-CR newlines, no trailing newline, an empty
module, line continuations, decorators, comments, f-strings and nested
brackets across lines.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from codefix.positions import SyntacticPositions
from conftest import FIXTURES

SHAPES = {
    "empty": "",
    "only_newline": "\n",
    "no_trailing_newline": "x = 1",
    "crlf": "import os\r\n\r\nasync def f():\r\n    await g(\r\n        1,\r\n    )\r\n",
    "lone_cr": "x = 1\ry = (2 +\r  3)\r",
    "continuation": "total = 1 + \\\n    2\nif a and \\\n   b:\n    pass\n",
    "decorated": "@decorator(\n    arg,\n)\n@other  # note\nasync def f(a, /, b=1, *c, d, **e) -> int:\n    '''doc'''\n    return await g()\n",
    "fstring": 'name = f"{a!r:>{width}} and {b[\'k\']}"\nmulti = f"""\n{x}\n"""\n',
    "brackets": "value = [\n    (1, 2),  # pair\n    {3: 4},\n]\nclass C(Base, metaclass=M):\n    x: int = 0\n",
    "comments_only": "# one\n\n# two\n",
    "with_items": "async def f():\n    async with a() as b, c() as d:\n        pass\n    with (\n        e() as f,\n    ):\n        pass\n",
}


def _assert_same_positions(module: cst.Module, where: str) -> None:
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = SyntacticPositions(module)
    assert len(ours) == len(expected), where
    assert set(map(id, ours)) == set(map(id, expected)), where
    for node, span in expected.items():
        assert ours[node] == span, (where, type(node).__name__, span, ours[node])


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_node_of_each_shape_is_where_libcst_says(name: str):
    _assert_same_positions(cst.parse_module(SHAPES[name]), name)


def test_every_node_of_every_fixture_file_is_where_libcst_says():
    files = sorted(FIXTURES.rglob("*.py"))
    assert len(files) > 50
    checked = 0
    for path in files:
        try:
            module = cst.parse_module(path.read_bytes())
        except cst.ParserSyntaxError:
            continue  # fixtures of broken files
        _assert_same_positions(module, str(path))
        checked += 1
    assert checked > 50


def test_every_node_of_standard_library_modules_is_where_libcst_says():
    library = Path(sysconfig.get_paths()["stdlib"])
    modules = ["asyncio/tasks.py", "argparse.py", "dataclasses.py", "typing.py", "email/_header_value_parser.py"]
    for relative in modules:
        _assert_same_positions(cst.parse_module((library / relative).read_bytes()), relative)


def test_a_node_of_another_module_is_not_there():
    ours = SyntacticPositions(cst.parse_module("x = 1\n"))
    stranger = cst.parse_module("y = 2\n").body[0]
    assert stranger not in ours
    with pytest.raises(KeyError):
        ours[stranger]
