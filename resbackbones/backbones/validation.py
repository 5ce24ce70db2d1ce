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


def positive_ints(name: str, values: Sequence) -> tuple:
    """``values`` when every entry is an integer >= 1; ValueError naming ``name`` otherwise (a stride of 0 was taken
    and failed in forward, a float one failed deep in conv2d)."""
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
        raise ValueError(f'{name} must be integers >= 1, one per stage; got {tuple(values)}')
    return tuple(values)


def check_widths(base_channels, groups, stem_channels, deep_stem: bool) -> None:
    """ValueError naming a width or group count that is not a positive integer (32.0 from width arithmetic failed
    deep in torch, 0 at the first forward); a deep stem halves ``stem_channels``, so it needs at least 2."""
    for name, value in (('base_channels', base_channels), ('groups', groups)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be an integer >= 1; got {value!r}')
    least = 2 if deep_stem else 1
    if stem_channels is not None and (isinstance(stem_channels, bool) or not isinstance(stem_channels, int) or
                                      stem_channels < least):
        raise ValueError(f'stem_channels must be an integer >= {least} (the deep stem halves it) or None '
                         f'(base_channels); got {stem_channels!r}')


def check_out_indices(out_indices: Sequence, num_stages: int) -> tuple:
    """Validate and order out_indices: 'stem' first, then stage indices ascending (the order forward returns)."""
    if isinstance(out_indices, (int, str)):
        out_indices = (out_indices,)
    allowed = ['stem', *range(num_stages)]
    bad = [i for i in out_indices if i not in allowed or not isinstance(i, (int, str)) or isinstance(i, bool)]
    if bad or not out_indices:
        raise ValueError(f'out_indices must be a non-empty subset of {allowed}; got {tuple(out_indices)}')
    stages = sorted({i for i in out_indices if i != 'stem'})
    return (('stem',) if 'stem' in out_indices else ()) + tuple(stages)


def check_block_widths(block_widths: Sequence[Sequence[int]] | None, stage_blocks: Sequence[int],
                       groups: int) -> tuple[tuple[int, ...], ...] | None:
    """Per built stage, per block, a positive inner width (divisible by ``groups`` for grouped convs); as tuples.

    ``stage_blocks``: the block counts of the built stages only, which ``block_widths`` must match in shape.
    """
    if block_widths is None:
        return None
    shape = [len(stage) if isinstance(stage, (list, tuple)) else None for stage in block_widths] \
        if isinstance(block_widths, (list, tuple)) else None
    if shape != list(stage_blocks):
        raise ValueError(f'block_widths needs one list per built stage with one width per block, i.e. lengths '
                         f'{list(stage_blocks)}; got {block_widths!r}')
    for i, stage in enumerate(block_widths):
        for j, width in enumerate(stage):
            if not isinstance(width, int) or isinstance(width, bool) or width < 1:
                raise ValueError(f'block_widths[{i}][{j}] must be an integer >= 1; got {width!r}')
            if width % groups:
                raise ValueError(f'block_widths[{i}][{j}] = {width} is not divisible by groups={groups}: a grouped '
                                 f'conv needs a whole number of channels per group')
    return tuple(tuple(stage) for stage in block_widths)


def check_block_options(block_options: Sequence[Sequence[dict]] | None,
                        stage_blocks: Sequence[int]) -> tuple[tuple[dict, ...], ...] | None:
    """Per built stage, per block, a dict of keyword arguments (``stage_blocks``: the built stages' block counts)."""
    if block_options is None:
        return None
    shape = [len(stage) if isinstance(stage, (list, tuple)) else None for stage in block_options] \
        if isinstance(block_options, (list, tuple)) else None
    if shape != list(stage_blocks) or not all(isinstance(o, dict) for stage in block_options for o in stage):
        raise ValueError(f'block_options needs one list per built stage with one dict per block, i.e. lengths '
                         f'{list(stage_blocks)}; got {block_options!r}')
    return tuple(tuple(stage) for stage in block_options)
