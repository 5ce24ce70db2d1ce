"""Sliding-window inference: predict overlapping patches of a large image and blend them into one map.

Windows of ``patch_size`` (2D or 3D) are placed evenly so the first and last touch the borders, with at least
``overlap`` between neighbours. Each prediction is weighted by an importance map (a Gaussian peaked at the patch centre, as in
nnU-Net, or constant) and the weighted sum is divided by the summed weights, which removes seams at patch borders.
"""
from __future__ import annotations

import itertools
import math
import numbers
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


def importance_map(patch_size: Sequence[int], blend: str = 'gaussian', sigma_scale: float = 0.125,
                   device: torch.device | str = 'cpu') -> torch.Tensor:
    """Weights of shape ``patch_size`` ((ph, pw) or (pd, ph, pw)): a Gaussian with sigma = sigma_scale * side per
    axis (max 1, floored above 0), or all ones."""
    if blend == 'constant':
        return torch.ones(tuple(patch_size), device=device)
    weights = torch.ones((), device=device)
    for side in patch_size:
        coords = torch.arange(side, dtype=torch.float32, device=device) - (side - 1) / 2
        weights = weights[..., None] * torch.exp(-0.5 * (coords / (sigma_scale * side)) ** 2)
    weights = weights / weights.max()
    return weights.clamp_min(max(float(weights[weights > 0].min()), 1e-3))  # borders must still count


def pad_to_at_least(inputs: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """Zero-pad the last ``len(sizes)`` axes of ``inputs`` at their end up to ``sizes`` (a window bigger than the
    input); axes already as large are left alone."""
    have = inputs.shape[-len(sizes):]
    pads = [p for n, k in zip(reversed(have), reversed(sizes)) for p in (0, max(k - n, 0))]
    return F.pad(inputs, pads) if any(pads) else inputs


def window_sizes(value: int | Sequence[int], name: str, dims: int) -> tuple[int, ...]:
    """``value`` as one positive side per spatial axis (an int: the same on every axis); ValueError otherwise."""
    def whole(v) -> bool:  # numpy integers too (a patch size read from an array)
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    sizes = (value,) * dims if whole(value) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(sizes) != dims or not all(whole(v) and v > 0 for v in sizes):
        shape = '(h, w)' if dims == 2 else '(d, h, w)'
        raise ValueError(f'sliding_window_inference: {name} must be a positive int or {shape}; got {value!r}')
    return tuple(int(v) for v in sizes)


@torch.no_grad()
def sliding_window_inference(inputs: torch.Tensor, predictor: Callable[[torch.Tensor], torch.Tensor],
                             patch_size: int | Sequence[int], overlap: float = 0.25, blend: str = 'gaussian',
                             sigma_scale: float = 0.125, batch_size: int = 4) -> torch.Tensor:
    """Blend ``predictor`` outputs over windows of ``patch_size`` into a full-size map (images or volumes).

    Args:
        inputs: (N, C, H, W) or (N, C, D, H, W); sides smaller than the patch are zero-padded (as MONAI) and the
            output cropped back.
        predictor: maps (B, C, *patch) to (B, K, *patch), e.g. a model's logits.
        patch_size: window side, or one side per spatial axis. overlap: fraction in [0, 1) shared by neighbours.
        blend: 'gaussian' or 'constant' weights. sigma_scale: Gaussian sigma as a fraction of the patch side.
        batch_size: windows per predictor call (windows of all N inputs are batched together).
    Memory: only ``batch_size`` windows of inputs and predictions exist at a time; each is added into the
    (N, K, *spatial) output and weight sum at once, so peak memory is the output plus one batch of windows.
    Returns: (N, K, *spatial) float32 blended outputs.
    """
    if inputs.dim() not in (4, 5):
        raise ValueError(f'sliding_window_inference: inputs must be (N, C, H, W) or (N, C, D, H, W); got '
                         f'{tuple(inputs.shape)}')
    if not 0 <= overlap < 1:
        raise ValueError(f'sliding_window_inference: overlap must be in [0, 1); got {overlap}')
    if blend not in BLEND_MODES:
        raise ValueError(f'sliding_window_inference: blend must be one of {list(BLEND_MODES)}; got {blend!r}')
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'sliding_window_inference: batch_size must be an int >= 1; got {batch_size!r}')
    if blend == 'gaussian' and not (isinstance(sigma_scale, (int, float)) and sigma_scale > 0):
        raise ValueError(f'sliding_window_inference: sigma_scale must be a number > 0 (the Gaussian sigma as a '
                         f'fraction of the patch side, e.g. 0.125); got {sigma_scale!r}')
    dims = inputs.dim() - 2
    patch = window_sizes(patch_size, 'patch_size', dims)
    n, sizes = inputs.shape[0], tuple(inputs.shape[2:])
    padded = pad_to_at_least(inputs, patch)
    full = tuple(padded.shape[2:])
    grids = itertools.product(range(n), *(window_starts(size, side, overlap) for size, side in zip(full, patch)))
    windows = [(w[0], tuple(slice(start, start + side) for start, side in zip(w[1:], patch))) for w in grids]
    weight = importance_map(patch, blend, sigma_scale, inputs.device)
    if n == 0:
        raise ValueError('sliding_window_inference: inputs hold no sample (batch of 0)')
    output = norm = None
    for start in range(0, len(windows), batch_size):
        chunk = windows[start:start + batch_size]
        preds = predictor(torch.stack([padded[(i, slice(None), *where)] for i, where in chunk])).float()
        if preds.dim() != dims + 2 or tuple(preds.shape[2:]) != patch or preds.shape[0] != len(chunk):
            raise ValueError(f'sliding_window_inference: predictor must map ({len(chunk)}, C, *{patch}) to '
                             f'({len(chunk)}, K, *{patch}); got {tuple(preds.shape)}')
        if output is None:
            output = preds.new_zeros((n, preds.shape[1], *full))
            norm = preds.new_zeros((n, 1, *full))
        for pred, (i, where) in zip(preds, chunk):
            output[(i, slice(None), *where)].addcmul_(pred, weight)
            norm[(i, slice(None), *where)].add_(weight)
    return output.div_(norm)[(..., *(slice(0, size) for size in sizes))]
