"""lazy_libcst.py: LibCST is imported on the first attribute asked of the stand-in, patched, and then is the real module."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import codefix.engine, codefix.rules, codefix.screening
from codefix import lazy_libcst
assert "libcst" not in sys.modules and not lazy_libcst.is_loaded(), "importing the engine and the rules loaded LibCST"
from codefix.lazy_libcst import cst
node = cst.parse_expression("f(x)")
import libcst
from codefix import libcst_walk
assert lazy_libcst.is_loaded() and cst.Call is libcst.Call and isinstance(node, libcst.Call)
assert cst.metadata.ScopeProvider is libcst.metadata.ScopeProvider
assert libcst.CSTNode.visit is libcst_walk._read_only_visit, "codefix's patches were not applied on loading"
assert "Call" in vars(cst), "later lookups should not go through the stand-in's __getattr__"
print("ok")
"""


def test_libcst_is_loaded_on_first_use_and_patched():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.stdout == "ok\n", done.stderr
