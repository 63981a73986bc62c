"""Module index entries as compact JSON arrays, and back.

A warm run of a one-file commit reads the whole project's index from the
cache, so decoding it is most of what pre-commit waits for. A generic
encoding (`{"@": "FunctionInfo", "v": [...]}` for every value, a type test
per value on the way back) spent ~1 s per 2,000 modules; this one knows the
shape of a `ModuleInfo`: positional arrays, one tag per binding, a module's
own name and path never repeated in its functions, and a function bound at
module level stored once and referred to by its line.

JSON rather than pickle or marshal, for the reason index_cache.py gives. A
malformed entry raises ValueError (or KeyError, TypeError, IndexError) and
the cache treats the file as not cached.
"""

from __future__ import annotations

from typing import Any

from codefix.index import ClassInfo, FunctionInfo, ImportRef, LocalAlias, ModuleInfo, OpaqueBinding, Symbol

#: Changes whenever the layout below does, or what a field holds (4: awaited callees through aliases);
#: part of the cache file's name.
CODEC_VERSION = 4


def encode_module(info: ModuleInfo) -> list[Any]:
    functions = [_encode_function(f, info) for f in info.functions_by_line.values()]
    symbols = [[name, [_encode_symbol(s, info) for s in bound]] for name, bound in info.symbols.items()]
    return [
        info.name,
        info.path,
        info.is_package,
        symbols,
        list(info.star_imports),
        functions,
        sorted(info.awaited_callees),
        sorted(info.imported_names),
        sorted(info.scoped_imported_names),
    ]


def decode_module(data: list[Any]) -> ModuleInfo:
    name, path, is_package, symbols, star_imports, functions, awaited, imported, scoped = data
    info = ModuleInfo(name=name, path=path, is_package=bool(is_package))
    info.functions_by_line = {}
    for record in functions:
        function = _decode_function(record, info)
        info.functions_by_line[function.line] = function
    info.symbols = {symbol_name: [_decode_symbol(s, info) for s in bound] for symbol_name, bound in symbols}
    info.star_imports = [str(module) for module in star_imports]
    info.awaited_callees = frozenset(awaited)
    info.imported_names = frozenset(imported)
    info.scoped_imported_names = frozenset(scoped)
    return info


def _encode_function(function: FunctionInfo, info: ModuleInfo) -> list[Any]:
    record = [
        function.name,
        function.line,
        function.is_async,
        list(function.decorators),
        function.return_annotation,
        list(function.returned_calls),
        function.is_generator,
        function.is_method,
        [[bound, ref.module, ref.name] for bound, ref in function.local_imports],
        function.returns_parameter,
    ]
    if (function.module, function.path) != (info.name, info.path):
        record += [function.module, function.path]
    return record


def _decode_function(record: list[Any], info: ModuleInfo) -> FunctionInfo:
    name, line, is_async, decorators, annotation, returned, generator, method, imports, returns_parameter, *where = record
    module, path = where if where else (info.name, info.path)
    if not isinstance(line, int):
        raise ValueError("a function's line must be a number")
    return FunctionInfo(
        module=module,
        name=name,
        path=path,
        line=line,
        is_async=bool(is_async),
        decorators=tuple(decorators),
        return_annotation=annotation,
        returned_calls=tuple(returned),
        is_generator=bool(generator),
        is_method=bool(method),
        local_imports=tuple((bound, ImportRef(module_name, ref_name)) for bound, module_name, ref_name in imports),
        returns_parameter=bool(returns_parameter),
    )


def _encode_symbol(symbol: Symbol, info: ModuleInfo) -> list[Any]:
    if isinstance(symbol, FunctionInfo):
        if info.functions_by_line.get(symbol.line) == symbol:
            return ["F", symbol.line]
        return ["f", _encode_function(symbol, info)]
    if isinstance(symbol, ClassInfo):
        return ["c", symbol.module, symbol.name, symbol.path, symbol.line, sorted(symbol.methods), list(symbol.bases)]
    if isinstance(symbol, ImportRef):
        return ["i", symbol.module, symbol.name]
    if isinstance(symbol, LocalAlias):
        return ["a", symbol.target]
    if isinstance(symbol, OpaqueBinding):
        return ["o", symbol.line]
    raise TypeError(f"not an index symbol: {symbol!r}")


def _decode_symbol(record: list[Any], info: ModuleInfo) -> Symbol:
    tag = record[0]
    if tag == "F":
        return info.functions_by_line[record[1]]
    if tag == "f":
        return _decode_function(record[1], info)
    if tag == "c":
        _, module, name, path, line, methods, bases = record
        return ClassInfo(module, name, path, line, frozenset(methods), tuple(bases))
    if tag == "i":
        return ImportRef(record[1], record[2])
    if tag == "a":
        return LocalAlias(record[1])
    if tag == "o":
        return OpaqueBinding(record[1])
    raise ValueError(f"unknown symbol tag {tag!r}")
