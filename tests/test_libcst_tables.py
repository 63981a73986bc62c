"""libcst_tables.py: the remembered visitor tables are the ones LibCST computes."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContextProvider, ParentNodeProvider, ScopeProvider

from codefix import libcst_tables


class _Counting(cst.BatchableCSTVisitor):
    def visit_Name(self, node: cst.Name) -> None:
        pass

    def leave_Call(self, original_node: cst.Call) -> None:
        pass


def _same(visitor: cst.BatchableCSTVisitor) -> None:
    expected = libcst_tables._original_get_visitors(visitor)
    for _ in range(2):  # the first call fills the table, the second reads it
        got = libcst_tables._get_visitors(visitor)
        assert list(got) == list(expected)
        assert all(got[name] == expected[name] and got[name].__self__ is visitor for name in expected)


def test_providers_and_a_visitor_of_our_own_get_libcsts_tables():
    for provider in (ScopeProvider, ParentNodeProvider, ExpressionContextProvider):
        _same(provider())
    _same(_Counting())
    assert list(libcst_tables._get_visitors(_Counting())) == ["leave_Call", "visit_Name"]


def test_an_instance_with_its_own_visitor_attribute_is_asked_afresh():
    visitor = _Counting()
    visitor.visit_Attribute = lambda node: None  # a plain function: LibCST leaves it out
    visitor.leave_Name = visitor.visit_Name  # a bound method under another name: LibCST lists it
    assert libcst_tables._get_visitors(visitor) == libcst_tables._original_get_visitors(visitor)
    assert "leave_Name" in libcst_tables._get_visitors(visitor)


def test_installed_on_the_class_libcst_calls():
    import codefix.engine  # noqa: F401 - installs on import

    assert cst.BatchableCSTVisitor.get_visitors is libcst_tables._get_visitors
    wrapper = cst.MetadataWrapper(cst.parse_module("def f(x):\n    return x\n"))
    assert any(scope is not None for scope in wrapper.resolve(ScopeProvider).values())
