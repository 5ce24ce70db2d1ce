"""Turning a label map into what losses need: checked labels, a one-hot tensor and a mask of valid pixels."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def check_target(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> int:
    """Check shapes and label range; returns the number of classes (2 when logits have one sigmoid channel).

    Args:
        logits: (N, C, H, W), or (N, C, D, H, W) for volumes; C = 1 means binary (sigmoid), else C classes.
        target: (N, H, W) (or (N, D, H, W)) integer labels in [0, num_classes) or ``ignore_index``.
    """
    if logits.dim() not in (4, 5) or target.shape != (logits.shape[0], *logits.shape[2:]):
        raise ValueError(f'loss: logits must be (N, C, H, W) and target (N, H, W) of the same N, H, W (volumes: '
                         f'(N, C, D, H, W) and (N, D, H, W)); got {tuple(logits.shape)} and {tuple(target.shape)}')
    if target.is_floating_point():
        raise ValueError(f'loss: target must hold integer labels; got dtype {target.dtype}')
    num_classes = 2 if logits.shape[1] == 1 else logits.shape[1]
    labels = target[target != ignore_index]
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f'loss: target labels must be in [0, {num_classes}) or ignore_index={ignore_index}; '
                         f'found {int(labels.min())}..{int(labels.max())}')
    return num_classes


def one_hot_target(target: torch.Tensor, num_classes: int, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(one-hot (N, num_classes, *spatial) float with zeros at ignored pixels, valid mask (N, 1, *spatial) float)
    for a (N, *spatial) target (images or volumes)."""
    valid = target != ignore_index
    one_hot = F.one_hot(torch.where(valid, target, torch.zeros_like(target)).long(), num_classes)
    valid = valid.unsqueeze(1).float()
    return one_hot.movedim(-1, 1).float() * valid, valid
