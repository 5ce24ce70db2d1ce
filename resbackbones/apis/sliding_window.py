"""Sliding-window inference: predict overlapping patches of a large image and blend them into one map.

Windows of ``patch_size`` are placed evenly so the first and last touch the borders, with at least ``overlap``
between neighbours. Each prediction is weighted by an importance map (a Gaussian peaked at the patch centre, as in
nnU-Net, or constant) and the weighted sum is divided by the summed weights, which removes seams at patch borders.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

BLEND_MODES = ('gaussian', 'constant')


def window_starts(size: int, patch: int, overlap: float) -> list[int]:
    """Start offsets of windows of length ``patch`` covering ``size`` with at least ``overlap`` (a fraction)."""
    if size <= patch:
        return [0]
    step = patch * (1 - overlap)
    count = math.ceil((size - patch) / step) + 1
    return [round(i * (size - patch) / (count - 1)) for i in range(count)]


def importance_map(patch_size: tuple[int, int], blend: str = 'gaussian', sigma_scale: float = 0.125,
                   device: torch.device | str = 'cpu') -> torch.Tensor:
    """(ph, pw) weights: a Gaussian with sigma = sigma_scale * side (max 1, floored above 0) or all ones."""
    if blend == 'constant':
        return torch.ones(patch_size, device=device)
    axes = []
    for side in patch_size:
        coords = torch.arange(side, dtype=torch.float32, device=device) - (side - 1) / 2
        axes.append(torch.exp(-0.5 * (coords / (sigma_scale * side)) ** 2))
    weights = axes[0][:, None] * axes[1][None, :]
    weights = weights / weights.max()
    return weights.clamp_min(max(float(weights[weights > 0].min()), 1e-3))  # borders must still count


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f'sliding_window_inference: {name} must be a positive int or (h, w); got {value!r}')
    return pair


@torch.no_grad()
def sliding_window_inference(inputs: torch.Tensor, predictor: Callable[[torch.Tensor], torch.Tensor],
                             patch_size: int | Sequence[int], overlap: float = 0.25, blend: str = 'gaussian',
                             sigma_scale: float = 0.125, batch_size: int = 4) -> torch.Tensor:
    """Blend ``predictor`` outputs over windows of ``patch_size`` into a full-size map.

    Args:
        inputs: (N, C, H, W); H and W may be smaller than the patch (then zero-padded, and cropped back).
        predictor: maps (B, C, ph, pw) to (B, K, ph, pw), e.g. a model's logits.
        patch_size: window side or (h, w). overlap: fraction in [0, 1) shared by neighbouring windows.
        blend: 'gaussian' or 'constant' weights. sigma_scale: Gaussian sigma as a fraction of the patch side.
        batch_size: windows per predictor call (windows of all N images are batched together).
    Returns: (N, K, H, W) float32 blended outputs.
    """
    if inputs.dim() != 4:
        raise ValueError(f'sliding_window_inference: inputs must be (N, C, H, W); got {tuple(inputs.shape)}')
    if not 0 <= overlap < 1:
        raise ValueError(f'sliding_window_inference: overlap must be in [0, 1); got {overlap}')
    if blend not in BLEND_MODES:
        raise ValueError(f'sliding_window_inference: blend must be one of {list(BLEND_MODES)}; got {blend!r}')
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'sliding_window_inference: batch_size must be an int >= 1; got {batch_size!r}')
    ph, pw = _pair(patch_size, 'patch_size')
    n, _, height, width = inputs.shape
    padded = F.pad(inputs, (0, max(pw - width, 0), 0, max(ph - height, 0)))
    full_h, full_w = padded.shape[-2:]
    windows = [(i, y, x) for i in range(n) for y in window_starts(full_h, ph, overlap)
               for x in window_starts(full_w, pw, overlap)]
    weight = importance_map((ph, pw), blend, sigma_scale, inputs.device)
    output = norm = None
    for start in range(0, len(windows), batch_size):
        chunk = windows[start:start + batch_size]
        preds = predictor(torch.stack([padded[i, :, y:y + ph, x:x + pw] for i, y, x in chunk])).float()
        if preds.dim() != 4 or preds.shape[-2:] != (ph, pw) or preds.shape[0] != len(chunk):
            raise ValueError(f'sliding_window_inference: predictor must map ({len(chunk)}, C, {ph}, {pw}) to '
                             f'({len(chunk)}, K, {ph}, {pw}); got {tuple(preds.shape)}')
        if output is None:
            output = preds.new_zeros((n, preds.shape[1], full_h, full_w))
            norm = preds.new_zeros((n, 1, full_h, full_w))
        for pred, (i, y, x) in zip(preds, chunk):
            output[i, :, y:y + ph, x:x + pw].addcmul_(pred, weight)
            norm[i, :, y:y + ph, x:x + pw].add_(weight)
    return (output / norm)[..., :height, :width]
