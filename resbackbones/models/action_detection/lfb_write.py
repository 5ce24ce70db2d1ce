"""Write a long-term feature bank file, ``{prefix}/lfb_{mode}.pkl``, from (img_key, feature) pairs, in one process
or many.

The file is mmaction2's: ``{video_id: {second (int): [feature (C,), ...]}}``, readable by its ``LFB`` and by ours
with ``torch.load(weights_only=True)``. It is replaced atomically, so a reader never sees half a bank. In a
distributed run each rank saves its part (``_lfb_{mode}_{rank}.pkl``, a shared folder as mmaction2 assumes), rank 0
merges them in rank order (a video's seconds from a later rank replace an earlier rank's, as mmaction2 does; the
sampler's padding repeats a clip on another rank, with the same features) and removes the parts.
"""
from __future__ import annotations

import os
from typing import Iterable

import torch
from mmengine.dist import barrier, get_dist_info

from ...engine.atomic import atomic_path

Bank = dict[str, dict[int, list[torch.Tensor]]]


def group_features(entries: Iterable[tuple[str, torch.Tensor]]) -> Bank:
    """``{video_id: {second: [features in arrival order]}}`` from ('video_id,second', feature) pairs."""
    bank: Bank = {}
    for img_key, feature in entries:
        video_id, sep, second = img_key.rpartition(',')
        if not sep or not second.strip().isdigit():
            raise ValueError(f"LFBInferHead: img_key must be 'video_id,second'; got {img_key!r}")
        bank.setdefault(video_id, {}).setdefault(int(second), []).append(feature)
    return bank


def _save(obj: Bank, path: str) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def write_bank(entries: Iterable[tuple[str, torch.Tensor]], prefix: str, mode: str) -> str | None:
    """Save the bank of every rank's ``entries`` as ``{prefix}/lfb_{mode}.pkl``; returns its path on rank 0
    (None on the others). Every rank must call it (it synchronises)."""
    rank, world_size = get_dist_info()
    os.makedirs(prefix, exist_ok=True)
    final = os.path.join(prefix, f'lfb_{mode}.pkl')
    if world_size == 1:
        _save(group_features(entries), final)
        return final
    part = os.path.join(prefix, f'_lfb_{mode}_{rank}.pkl')
    _save(group_features(entries), part)
    barrier()
    if rank == 0:
        bank: Bank = {}
        parts = [os.path.join(prefix, f'_lfb_{mode}_{r}.pkl') for r in range(world_size)]
        for path in parts:
            for video_id, seconds in torch.load(path, map_location='cpu', weights_only=True).items():
                bank.setdefault(video_id, {}).update(seconds)
        _save(bank, final)
        for path in parts:
            os.remove(path)
    barrier()
    return final if rank == 0 else None
