"""Walking a config for its ``dict(type=...)`` nodes, with the key path of each (for errors that name it)."""
from __future__ import annotations

from typing import Any, Iterator


def typed_dicts(node: Any, where: str = '') -> Iterator[tuple[str, dict, str]]:
    """(key path, dict, type name) of every dict under ``node`` whose 'type' is a string, a parent before its
    children; a caller may rewrite a yielded dict in place (its subtree is walked after, as rewritten)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, (list, tuple)) else ()
    for key, child in list(items):
        path = (f'{where}.{key}' if where else key) if isinstance(key, str) else f'{where}[{key}]'
        if isinstance(child, dict) and isinstance(child.get('type'), str):
            yield path, child, child['type']
        yield from typed_dicts(child, path)
