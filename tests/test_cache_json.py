"""cache_json.py: orjson writes what the json module would, and the json module takes what orjson refuses."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from codefix import cache_json

_leaves = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text()
_documents = st.recursive(_leaves, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=40)


@given(_documents)
def test_the_bytes_are_the_json_modules_and_read_back(document):
    written = cache_json.dumps(document)
    assert json.loads(written) == document
    assert written == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_lone_surrogate_falls_back_to_the_json_module():
    document = {"files": {"m.py": [[1, 2], "digest", ["\udc80 from a string constant"]]}}
    written = cache_json.dumps(document)
    assert written == json.dumps(document, separators=(",", ":")).encode()
    assert json.loads(written) == document
