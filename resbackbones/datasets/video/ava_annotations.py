"""Reading AVA's annotation files: the box csv, the excluded-timestamps csv and the person-proposal pickle.

The csv has one line per (person box, action) at a keyframe: ``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``
with the box relative to the frame (0..1). mmaction2 groups lines by keyframe (``img_key`` = ``video_id,%04d``) and
merges the lines of one box (equal coordinates) into one entity with all its actions; so does ``merge_entities``.
Proposal pickles (``{img_key: (n, 4 or 5) array}``, relative boxes + detector score) are read through the restricted
unpickler: mmaction2 ``pickle.load``s them, which would run any callable a crafted file names.
"""
from __future__ import annotations

import os
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from ..restricted_pickle import NUMPY_ARRAYS, load_restricted

FIELDS = 'video_id,timestamp,x1,y1,x2,y2,action_id,person_id'


class BoxLine(NamedTuple):
    """One csv line: where it is (for messages) and its fields."""
    where: str
    video_id: str
    timestamp: int
    box: np.ndarray
    label: int
    entity_id: int


def _text_lines(path: str, what: str) -> list[tuple[int, str]]:
    if path is None or not os.path.isfile(path):
        raise FileNotFoundError(f'AVA {what} {path} does not exist')
    with open(path, encoding='utf-8') as f:
        return [(n, line.strip()) for n, line in enumerate(f.read().splitlines(), 1) if line.strip()]


def read_box_lines(path: str) -> list[BoxLine]:
    """Every line of an AVA box csv, parsed; ValueError names the file and line of one without 8 numeric fields."""
    rows = []
    for lineno, line in _text_lines(path, 'ann_file'):
        where = f'{path}, line {lineno}'
        fields = line.split(',')
        if len(fields) != 8:
            raise ValueError(f'{where}: expected 8 fields {FIELDS}; got {len(fields)} in {line!r}')
        try:
            rows.append(BoxLine(where, fields[0], int(fields[1]), np.array([float(v) for v in fields[2:6]]),
                                int(fields[6]), int(fields[7])))
        except ValueError:
            raise ValueError(f'{where}: expected {FIELDS} with an integer timestamp, action and person id and '
                             f'numeric box; got {line!r}') from None
    return rows


def read_exclusions(path: str) -> set[tuple[str, int]]:
    """The (video_id, timestamp) keyframes an exclude csv (``video_id,timestamp`` per line) lists."""
    out = set()
    for lineno, line in _text_lines(path, 'exclude_file'):
        fields = line.split(',')
        if len(fields) != 2 or not fields[1].strip().lstrip('-').isdigit():
            raise ValueError(f'{path}, line {lineno}: expected video_id,timestamp; got {line!r}')
        out.add((fields[0], int(fields[1])))
    return out


def merge_entities(lines: list[BoxLine], num_classes: int, multilabel: bool) -> dict:
    """One keyframe's lines as ``gt_bboxes`` (K, 4), ``gt_labels`` and ``entity_ids`` (K,), one row per distinct box
    in order of first appearance (mmaction2 merges by equal box, keeping the first line's person id).

    ``gt_labels`` is a (K, num_classes) float32 multi-hot with ``multilabel``, else the (K, 1) action ids.
    """
    groups: dict[tuple, list[BoxLine]] = defaultdict(list)
    for line in lines:
        groups[tuple(line.box.tolist())].append(line)
    bboxes, labels, entity_ids = [], [], []
    for members in groups.values():
        bboxes.append(members[0].box)
        entity_ids.append(members[0].entity_id)
        actions = [m.label for m in members]
        if multilabel:
            hot = np.zeros(num_classes, dtype=np.float32)
            hot[actions] = 1.
            labels.append(hot)
        elif len(actions) != 1:
            raise ValueError(f'{members[1].where}: box {members[0].box.tolist()} has several actions {actions} but '
                             f'multilabel=False takes one action per box')
        else:
            labels.append(np.array(actions))
    return dict(gt_bboxes=np.stack(bboxes), gt_labels=np.stack(labels), entity_ids=np.stack(entity_ids))


def load_proposals(path: str) -> dict:
    """``{img_key: array}`` from a proposal pickle (dicts, strings and numpy arrays only)."""
    content = load_restricted(path, NUMPY_ARRAYS, 'an AVA proposal pickle',
                              'an AVA proposal file holds a dict of numpy arrays', encoding='latin1')
    if not isinstance(content, dict):
        raise ValueError(f'{path}: an AVA proposal pickle holds a dict {{"video_id,%04d": array}}; got '
                         f'{type(content).__name__}')
    return content


def select_proposals(proposals: dict, key: str, score_thr: float, max_num: int,
                     path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(boxes (P, 4), scores (P,) or None) of keyframe ``key``, as mmaction2 picks them.

    Boxes scored at least min(score_thr, best score) are kept (so a keyframe always keeps its best box), the first
    ``max_num`` of them. A keyframe the file lacks (or with no boxes) gets the whole frame [[0, 0, 1, 1]], score 1.
    """
    found = proposals.get(key)
    if found is None or (isinstance(found, np.ndarray) and found.ndim == 2 and len(found) == 0):
        return np.array([[0., 0., 1., 1.]]), np.array([1.])
    if not isinstance(found, np.ndarray) or found.ndim != 2 or found.shape[1] not in (4, 5):
        raise ValueError(f"{path}: proposals of {key!r} must be an (n, 4) or (n, 5) array (x1, y1, x2, y2[, score]); "
                         f"got {getattr(found, 'shape', type(found).__name__)}")
    scores = None
    if found.shape[1] == 5:
        keep = found[:, 4] >= min(score_thr, found[:, 4].max())
        found = found[keep][:max_num]
        found, scores = found[:, :4], found[:, 4]
    else:
        found = found[:max_num]
    if found.min() < 0 or found.max() > 1:
        raise ValueError(f'{path}: proposals of {key!r} must be relative to the frame (0..1); got values '
                         f'{found.min():g}..{found.max():g}')
    return found, scores
