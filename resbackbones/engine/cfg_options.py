"""``--cfg-options KEY=VALUE ...``: mmengine's DictAction, plus dict values, and one clear error for the rest.

mmengine's DictAction reads numbers, booleans, ``None``, bare strings and lists/tuples of those (``a,b``, ``[a,b]``,
``(1,2)``), but a dict (``param_scheduler=[dict(type='ConstantLR')]``) sends it into endless recursion, and a word
without ``=`` into an unpacking error: a traceback either way. Here a value that holds a dict is read as a Python
literal in which ``dict(key=value)`` calls are allowed (nothing else is called or looked up), every other value as
mmengine reads it (a string with braces, like a filename template, included), and what neither reads is an
argparse error naming the key and what was expected.
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
from typing import Any, Sequence

from mmengine.config import DictAction

EXPECTED = ("a number, true/false, None, a string, a list or tuple of those ([a,b] or (1,2)), or a dict written "
            "dict(key=value) or {'key': value}")


def literal_with_dicts(text: str) -> Any:
    """The Python literal ``text`` where ``dict(key=value, ...)`` calls are allowed; ValueError for anything else."""
    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' \
                and not node.args and all(k.arg is not None for k in node.keywords):
            return {k.arg: value(k.value) for k in node.keywords}
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {value(k): value(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(element) for element in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        return ast.literal_eval(node)  # constants, signed numbers; raises ValueError on names and calls

    return value(ast.parse(text.strip(), mode='eval').body)


DICT_CALL = re.compile(r'(^|[\[(,{:=\s])dict\(')  # a call, not a word ending in 'dict(' ('out/predict(1)')


def holds_dict(text: str) -> bool:
    """Whether a value is meant as a dict: it calls ``dict(`` or is a ``{...}`` literal (a string such as the
    filename template ``img_{:05}.jpg`` stays a string, as mmengine reads it)."""
    return bool(DICT_CALL.search(text.strip())) or text.strip().strip('\'"').startswith('{')


def top_level_comma(text: str) -> bool:
    """Whether ``text`` has a comma outside brackets and quotes (mmengine's bracket-free list ``a,b``)."""
    depth, quote = 0, None
    for c in text:
        if quote:
            quote = None if c == quote else quote
        elif c in '\'"':
            quote = c
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        elif c == ',' and depth == 0:
            return True
    return False


def read_value(text: str, parse_iterable, parse_scalar) -> Any:
    """One ``--cfg-options`` value. A quoted value is the string inside the quotes, verbatim (mmengine removed
    its spaces, so a path with one pointed elsewhere, and read '0123' as 123); a scalar keeps its spaces; a dict
    as a literal; a brace string that is no dict ('{}.pth') as a string; a list or tuple with quoted items as a
    Python literal (its quoted items strings), other lists and tuples as mmengine reads them."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in '\'"' \
            and stripped[0] not in stripped[1:-1]:  # one quoted string ("'a','b'" is a list of two)
        return stripped[1:-1]
    if DICT_CALL.search(stripped):  # dicts joined by a top-level comma are a list, as mmengine reads 'a,b'
        value = literal_with_dicts(text)
        return list(value) if isinstance(value, tuple) and stripped[0] != '(' else value
    if stripped.startswith('{'):
        try:
            return literal_with_dicts(text)
        except (ValueError, SyntaxError):
            return stripped
    iterable = stripped[:1] in ('[', '(') or top_level_comma(stripped)
    if not iterable:  # a path such as '/data/scans (1)/x' keeps its spaces and brackets (mmengine dropped spaces)
        return parse_scalar(stripped)
    if "'" in stripped or '"' in stripped:
        try:  # quoted items stay strings: mmengine read "['1','0']" (class names) as [1, 0]
            value = literal_with_dicts(text)
            return list(value) if isinstance(value, tuple) and stripped[0] != '(' else value  # 'a','b' as a,b
        except (ValueError, SyntaxError):
            pass
    return parse_iterable(text)


class CfgOptionsAction(DictAction):
    """``KEY=VALUE`` pairs into a dict, as mmengine's DictAction, with dict values and one-line errors."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Sequence[str] | None, option_string: str | None = None) -> None:
        options = copy.copy(getattr(namespace, self.dest, None) or {})
        for pair in values or []:
            key, sep, text = pair.partition('=')
            if not sep or not key:
                parser.error(f'{option_string} {pair!r}: expected KEY=VALUE')
            try:
                options[key] = read_value(text, self._parse_iterable, self._parse_int_float_bool)
            except (ValueError, SyntaxError, TypeError, AssertionError, RecursionError):
                parser.error(f'{option_string} {key}: cannot read the value {text!r}; expected {EXPECTED}')
        setattr(namespace, self.dest, options)
