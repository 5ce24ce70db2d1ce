"""Cross-entropy for segmentation: softmax CE for C channels, binary CE with logits for one channel."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS
from .targets import check_target


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """``weight * mean CE over valid pixels``; one logit channel switches to BCE (foreground = label 1).

    With ``class_weight`` the mean is torch's weighted one, sum(w_y * ce) / sum(w_y) over valid pixels: only the
    weights' ratios matter (mmseg divides by the pixel count instead, so its scale follows the weights).

    Args:
        weight: loss weight in the model's sum. class_weight: per-class weights (softmax CE only).
        pos_weight: weight of foreground pixels (BCE only). label_smoothing: softmax CE only.
        ignore_index: label of pixels that do not count. loss_name: key in the model's loss dict.
    """

    def __init__(self, weight: float = 1.0, class_weight: Sequence[float] | None = None,
                 pos_weight: float | None = None, label_smoothing: float = 0.0, ignore_index: int = 255,
                 loss_name: str = 'loss_ce'):
        super().__init__()
        if 'loss' not in loss_name:
            raise ValueError(f"CrossEntropyLoss: loss_name must contain 'loss' (mmengine sums those keys); "
                             f'got {loss_name!r}')
        self.weight, self.pos_weight, self.label_smoothing = weight, pos_weight, label_smoothing
        self.class_weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float)
        self.ignore_index, self.loss_name = ignore_index, loss_name

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """logits (N, C, *spatial), target (N, *spatial) labels (images or volumes) -> scalar loss (0 when no
        pixel is valid)."""
        num_classes = check_target(logits, target, self.ignore_index)
        valid = target != self.ignore_index
        if not valid.any():
            return logits.sum() * 0
        if logits.shape[1] == 1:
            pos_weight = None if self.pos_weight is None else logits.new_tensor(self.pos_weight)
            loss = F.binary_cross_entropy_with_logits(logits[:, 0][valid], (target[valid] == 1).float(),
                                                      pos_weight=pos_weight)
            return self.weight * loss
        weight = None
        if self.class_weight is not None:
            if self.class_weight.numel() != num_classes:
                raise ValueError(f'CrossEntropyLoss: class_weight needs {num_classes} entries; '
                                 f'got {self.class_weight.numel()}')
            weight = self.class_weight.to(logits.device)
        return self.weight * F.cross_entropy(logits, target.long(), weight=weight, ignore_index=self.ignore_index,
                                             label_smoothing=self.label_smoothing)
