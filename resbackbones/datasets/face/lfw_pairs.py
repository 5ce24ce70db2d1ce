"""LFW's ``pairs.txt`` (and pairsDevTest.txt): the verification pairs of an image folder.

Format: an optional header line ("10 300": folds, pairs per half-fold, or "500" for the dev files), then one pair a
line: ``name n1 n2`` (two images of one person, same) or ``name1 n1 name2 n2`` (different). Image k of ``name`` is
``root/name/name_%04d.jpg`` (``pattern`` changes that).
"""
from __future__ import annotations

import os

LFW_PATTERN = '{name}/{name}_{number:04d}.jpg'


def read_pairs(pairs_file: str, root: str, pattern: str = LFW_PATTERN) -> tuple[list[str], list[bool]]:
    """(paths, issame): 2N image paths (pair k is 2k, 2k+1) and N flags; every path must exist."""
    if not os.path.isfile(pairs_file):
        raise FileNotFoundError(f'pairs file not found: {pairs_file}')
    try:  # a mistyped field ('{num}') was a bare KeyError at the first pair
        pattern.format(name='name', number=1)
    except (KeyError, IndexError, ValueError, AttributeError) as err:
        raise ValueError(f"read_pairs: pattern {pattern!r} must format with {{name}} and {{number}} only (e.g. "
                         f"{LFW_PATTERN!r}); got {type(err).__name__}: {err}") from None
    paths, issame, seen_content = [], [], False
    try:
        with open(pairs_file, encoding='utf-8-sig') as f:  # a byte-order mark is no part of the header
            lines = f.read().splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f'{pairs_file} is not UTF-8 text: {err}') from None
    for line_no, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        header = not seen_content and len(fields) <= 2 and all(x.isdigit() for x in fields)
        seen_content = True
        if header:  # only the first line with content ("folds pairs_per_fold", or "500"): a pair of identities
            continue  # named by numbers ("1001 1 2") was taken for one and dropped, shifting every later pair
        try:
            if len(fields) == 3:
                pair = [(fields[0], int(fields[1])), (fields[0], int(fields[2]))]
            elif len(fields) == 4:
                pair = [(fields[0], int(fields[1])), (fields[2], int(fields[3]))]
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f'{pairs_file}, line {line_no}: expected "name n1 n2" or "name1 n1 name2 n2"; '
                             f'got {line.strip()!r}') from None
        if pair[0] == pair[1]:  # it would score a perfect match whatever the model
            raise ValueError(f'{pairs_file}, line {line_no}: {line.strip()!r} pairs an image with itself')
        for name, number in pair:
            path = os.path.join(root, pattern.format(name=name, number=number))
            if not os.path.isfile(path):
                raise FileNotFoundError(f'{pairs_file}, line {line_no}: image {path} (of {name}, number {number}) '
                                        f'does not exist')
            paths.append(path)
        issame.append(len(fields) == 3)
    if not issame:
        raise ValueError(f'{pairs_file}: no pairs found')
    return paths, issame
