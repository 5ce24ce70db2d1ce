"""Segmentation data samples as the segmentor receives them: per-sample dicts and a stacked label map."""
from __future__ import annotations

from typing import Any, Sequence

import torch


def split_samples(data_samples: Any, num: int, owner: str = 'segmentor') -> list[dict]:
    """One dict per sample from a list of dicts or a collated dict of per-sample lists (mmengine pseudo_collate).

    Keys of a collated dict whose value is not a list of ``num`` entries are dropped (they cannot be split);
    ``owner`` names the model in errors.
    """
    if data_samples is None:
        return [{} for _ in range(num)]
    if isinstance(data_samples, dict):
        samples: list[dict] = [{} for _ in range(num)]
        for key, value in data_samples.items():
            if isinstance(value, (list, tuple, torch.Tensor)) and len(value) == num:
                for sample, item in zip(samples, value):
                    sample[key] = item
        return samples
    if not isinstance(data_samples, Sequence) or len(data_samples) != num:
        raise ValueError(f'{owner}: data_samples must be {num} dicts (one per input); got {type(data_samples)}')
    bad = [i for i, s in enumerate(data_samples) if not isinstance(s, dict)]
    if bad:
        raise ValueError(f'{owner}: data_samples must be dicts (one per input); items {bad} are not')
    return [dict(s) for s in data_samples]


def gt_maps(samples: Sequence[dict], size: Sequence[int], ignore_index: int, device: torch.device,
            required: bool = False) -> torch.Tensor | None:
    """(N, *size) int64 ground truth, each (H, W) or (D, H, W) map padded to ``size`` with ``ignore_index``
    (batch padding).

    Returns None when no sample has 'gt_sem_seg' and ``required`` is False.
    """
    maps = [s.get('gt_sem_seg') for s in samples]
    if all(m is None for m in maps) and not required:
        return None
    out = torch.full((len(samples), *size), ignore_index, dtype=torch.long, device=device)
    for i, (gt, sample) in enumerate(zip(maps, samples)):
        where = sample.get('img_path', f'sample {i}')
        if gt is None:
            raise ValueError(f"segmentor: {where} has no 'gt_sem_seg' (a label map) in its data_samples")
        gt = torch.as_tensor(gt)
        gt = gt[0] if gt.dim() == len(size) + 1 and gt.shape[0] == 1 else gt
        if gt.dim() != len(size) or any(g > s for g, s in zip(gt.shape, size)):
            what = '(H, W)' if len(size) == 2 else '(D, H, W)'
            raise ValueError(f'segmentor: gt_sem_seg of {where} has shape {tuple(gt.shape)}; expected a {what} '
                             f'map no larger than the input {tuple(size)}')
        out[(i, *(slice(0, g) for g in gt.shape))] = gt.to(device=device, dtype=torch.long)
    return out
