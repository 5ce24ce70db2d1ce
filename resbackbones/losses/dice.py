"""Soft Dice loss (Milletari et al., 2016) for binary (sigmoid) and multi-class (softmax) logits."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..registry import MODELS
from .targets import check_target, one_hot_target


EMPTY_DENOMINATOR = 1e-7  # smooth 0 and nothing predicted or labelled: 0 / 0


def soft_dice(probs: torch.Tensor, one_hot: torch.Tensor, valid: torch.Tensor, smooth: float = 1.0,
              per_image: bool = False) -> torch.Tensor:
    """Soft Dice per class: (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth) over valid pixels.

    Args:
        probs, one_hot: (N, C, H, W) or (N, C, D, H, W). valid: (N, 1, ...) 1 where the pixel counts.
        per_image: Dice per image then averaged (N, C -> C) over the images with any valid pixel (a wholly
            ignored image would count as a perfect one); default pools the whole batch, which is stable when an
            image has no foreground.
    Returns: (C,) Dice per class; with smooth 0 a class absent from prediction and target scores 0, not NaN.
    """
    probs = probs * valid
    spatial = tuple(range(2, probs.dim()))
    dims = spatial if per_image else (0, *spatial)
    inter = (probs * one_hot).sum(dims)
    denom = probs.sum(dims) + one_hot.sum(dims)
    dice = (2 * inter + smooth) / (denom + smooth).clamp_min(EMPTY_DENOMINATOR)
    return dice[valid.flatten(1).any(1)].mean(0) if per_image else dice


@MODELS.register_module()
class DiceLoss(nn.Module):
    """``weight * (1 - mean class Dice)``.

    One logit channel means binary: Dice of the foreground (sigmoid). C channels: softmax, mean over classes.

    Args:
        weight: loss weight in the model's sum. smooth: added to numerator and denominator.
        include_background: count class 0 in the multi-class mean (ignored for binary).
        class_weight: per-class weights of the mean (multi-class). per_image: see ``soft_dice``.
        ignore_index: label of pixels that do not count. loss_name: key in the model's loss dict.
    """

    def __init__(self, weight: float = 1.0, smooth: float = 1.0, include_background: bool = True,
                 class_weight: Sequence[float] | None = None, per_image: bool = False, ignore_index: int = 255,
                 loss_name: str = 'loss_dice'):
        super().__init__()
        if smooth < 0:
            raise ValueError(f'DiceLoss: smooth must be >= 0; got {smooth}')
        if 'loss' not in loss_name:
            raise ValueError(f"DiceLoss: loss_name must contain 'loss' (mmengine sums those keys); got {loss_name!r}")
        self.weight, self.smooth, self.include_background = weight, smooth, include_background
        self.class_weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float)
        self.per_image, self.ignore_index, self.loss_name = per_image, ignore_index, loss_name

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """logits (N, C, H, W) or (N, C, D, H, W), target (N, H, W) or (N, D, H, W) labels -> scalar loss."""
        num_classes = check_target(logits, target, self.ignore_index)
        one_hot, valid = one_hot_target(target, num_classes, self.ignore_index)
        if not valid.any():  # nothing to score: zero with a gradient, as the cross-entropy
            return logits.sum() * 0
        if logits.shape[1] == 1:
            dice = soft_dice(torch.sigmoid(logits), one_hot[:, 1:], valid, self.smooth, self.per_image)
        else:
            dice = soft_dice(logits.softmax(1), one_hot, valid, self.smooth, self.per_image)
            if not self.include_background:
                dice = dice[1:]
        if self.class_weight is not None and logits.shape[1] > 1:
            if self.class_weight.numel() != num_classes:  # counted after dropping background, it named one too few
                raise ValueError(f'DiceLoss: class_weight needs {num_classes} entries, one per class with the '
                                 f'background (also with include_background=False); got {self.class_weight.numel()}')
            weights = self.class_weight.to(dice.device)
            weights = weights if self.include_background else weights[1:]
            return self.weight * (1 - (dice * weights).sum() / weights.sum())
        return self.weight * (1 - dice.mean())
