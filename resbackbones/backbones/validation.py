"""Argument checks that raise ValueError naming the argument and what was expected."""
from __future__ import annotations

from typing import Any, Sequence


def check_choice(name: str, value: Any, allowed: Sequence) -> None:
    if value not in allowed:
        raise ValueError(f'{name} must be one of {list(allowed)}; got {value!r}')


def per_stage(name: str, value: Sequence | None, default: Sequence, num_stages: int) -> tuple:
    """A per-stage setting: the default truncated to num_stages, or the user's value, which must match it."""
    if value is None:
        return tuple(default[:num_stages])
    value = tuple(value)
    if len(value) != num_stages:
        raise ValueError(f'{name} needs one entry per stage (num_stages={num_stages}); got {len(value)}: {value}')
    return value


def check_out_indices(out_indices: Sequence, num_stages: int) -> tuple:
    """Validate and order out_indices: 'stem' first, then stage indices ascending (the order forward returns)."""
    if isinstance(out_indices, (int, str)):
        out_indices = (out_indices,)
    allowed = ['stem', *range(num_stages)]
    bad = [i for i in out_indices if i not in allowed or isinstance(i, bool)]
    if bad or not out_indices:
        raise ValueError(f'out_indices must be a non-empty subset of {allowed}; got {tuple(out_indices)}')
    stages = sorted({i for i in out_indices if i != 'stem'})
    return (('stem',) if 'stem' in out_indices else ()) + tuple(stages)
