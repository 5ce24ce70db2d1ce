"""Ground-truth class labels out of whatever form a dataloader hands them in, and back onto predictions."""
from __future__ import annotations

from collections.abc import Mapping

import torch


def gt_labels(data_samples, device: torch.device) -> torch.Tensor:
    """(N,) int64 labels from a collated tensor, a list of ints/0-d tensors, a list of dicts with 'gt_label', or
    mmengine's ``pseudo_collate`` output (one dict of lists)."""
    if isinstance(data_samples, Mapping):
        data_samples = data_samples['gt_label']
    if isinstance(data_samples, torch.Tensor):
        return data_samples.to(device).long().view(-1)
    labels = [s['gt_label'] if isinstance(s, dict) else s for s in data_samples]
    return torch.as_tensor([int(label) for label in labels], device=device)


def with_labels(preds: list[dict], data_samples, device: torch.device) -> list[dict]:
    """``preds`` with each sample's 'gt_label' added when labels were given (for the evaluators)."""
    if data_samples is not None:
        for pred, label in zip(preds, gt_labels(data_samples, device).tolist()):
            pred['gt_label'] = label
    return preds
