"""AVA's action list (``.pbtxt``): class ids and names, read without protocol buffers (shared by dataset and metric).

Two layouts exist and both are read: mmaction2's ``item { name: "..." id: N }`` and the official AVA file's
``label { name: "..." label_id: N label_type: ... }``. An entry is recorded when its id is read, with the name read
before it in the same block (mmaction2's rule); any other line is an error naming the file and line, so a file of
another format is not silently read as "no classes".
"""
from __future__ import annotations

import os
import re

_NAME = re.compile(r'^name:\s*"(.*)"$')
_ID = re.compile(r'^(?:label_)?id:\s*(-?\d+)$')
_IGNORED = re.compile(r'^(?:\w+\s*\{|\}|label_type:\s*\w+|#.*)?$')  # block openers/closers, types, comments, blanks


def read_labelmap(path: str) -> tuple[list[dict], set[int]]:
    """([{'id': int, 'name': str}, ...] in file order, {ids}) of an AVA ``.pbtxt``; ValueError names file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'AVA label file {path} does not exist')
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    labelmap, ids, name = [], set(), None
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        named, numbered = _NAME.match(line), _ID.match(line)
        if named:
            name = named.group(1)
        elif numbered:
            class_id = int(numbered.group(1))
            if name is None:
                raise ValueError(f'{path}, line {lineno}: id {class_id} has no name before it in its block')
            if class_id in ids:
                raise ValueError(f'{path}, line {lineno}: id {class_id} is listed twice')
            labelmap.append({'id': class_id, 'name': name})
            ids.add(class_id)
        elif _IGNORED.match(line):
            if line.endswith('{') or line == '}':
                name = None  # a name belongs to its own block
        else:
            raise ValueError(f'{path}, line {lineno}: expected name: "...", id: N, label_id: N, label_type: ... or '
                             f'braces; got {raw!r}')
    if not labelmap:
        raise ValueError(f'{path}: no class ids found (expected item {{ name: "..." id: N }} blocks)')
    return labelmap, ids
