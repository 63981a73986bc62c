"""A file LibCST cannot read is that file's error, worded for what it is.

`(x): int` is valid Python that LibCST 1.x rejects: the error must say so
(the user's code is fine, the tool is not), with the line LibCST names in
the file itself.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from conftest import FACTORY, invoke, write

LIBCST_ONLY_FAILS = (
    "from pkg.ws import get_websocket_manager\n"
    "\n"
    "\n"
    "async def handler(ctx):\n"
    "    (note): int\n"
    "    return await get_websocket_manager(ctx)\n"
)


def test_valid_python_libcst_rejects_is_reported_as_libcsts_limit(project: Path):
    ast.parse(LIBCST_ONLY_FAILS)  # CPython accepts it
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": LIBCST_ONLY_FAILS})
    result = invoke("scan", ".", "--format", "json", cwd=project)
    errors = json.loads(result.stdout)["errors"]
    assert [error["path"] for error in errors] == ["pkg/use.py"]
    prefix = "LibCST cannot parse this file, though CPython can: syntax error at line "
    assert errors[0]["message"].startswith(prefix)
    # LibCST notices at the end of the offending line 5, so it names line 6; never a line of a reduced copy.
    assert errors[0]["message"][len(prefix) :].startswith("6, column 13:")


def test_a_file_neither_parser_reads_is_a_plain_syntax_error(project: Path):
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": LIBCST_ONLY_FAILS.replace("(note): int", "def (:")})
    result = invoke("scan", ".", "--format", "json", cwd=project)
    [error] = json.loads(result.stdout)["errors"]
    assert error["path"] == "pkg/use.py" and error["message"].startswith("syntax error at line 5")


def test_a_reduced_copy_libcst_rejects_falls_back_to_the_whole_file(project: Path, monkeypatch):
    from codefix import engine, parallel
    from codefix.reduction import Reduced

    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 10**9)
    write(project, {"pkg/__init__.py": "", "pkg/ws.py": FACTORY, "pkg/use.py": LIBCST_ONLY_FAILS.replace("    (note): int\n", "")})
    expected = json.loads(invoke("scan", ".", "--format", "json", "--no-cache", cwd=project).stdout)
    assert [f["rule"] for f in expected["findings"]] == ["await-websocket"] and not expected["errors"]
    monkeypatch.setattr(engine, "reduce_source", lambda text, tree, sites, emptied=(), looked_up=frozenset(): Reduced("def (:\n", (1,)))
    assert json.loads(invoke("scan", ".", "--format", "json", "--no-cache", cwd=project).stdout) == expected
