"""2D -> 3D weight inflation (I3D, Carreira & Zisserman 2017), so ImageNet ResNets start video ResNets.

A k x k kernel becomes t x k x k by repeating it over time and dividing by t. A clip of t identical frames then
gives every inflated conv the 2D conv's output on that frame, so a "boring" video reproduces the 2D network's
activations away from the clip's temporal borders (where zero padding sees fewer frames). Norm layers need no
change: their per-channel tensors have the same shape in 2D and 3D.
"""
from __future__ import annotations

import torch


def can_inflate(ckpt_shape: torch.Size, model_shape: torch.Size) -> bool:
    """True for a 2D conv kernel (out, in, kh, kw) whose 3D target is (out, in', t, kh, kw)."""
    return len(ckpt_shape) == 4 and len(model_shape) == 5 and tuple(ckpt_shape[2:]) == tuple(model_shape[3:]) \
        and ckpt_shape[0] == model_shape[0]


def inflate_conv(weight: torch.Tensor, frames: int) -> torch.Tensor:
    """(out, in, kh, kw) -> (out, in, frames, kh, kw): the kernel repeated over ``frames`` and divided by it."""
    if weight.dim() != 4:
        raise ValueError(f'inflation needs a 2D conv kernel (out, in, kh, kw); got shape {tuple(weight.shape)}')
    if not isinstance(frames, int) or frames < 1:
        raise ValueError(f'frames must be an integer >= 1; got {frames!r}')
    return weight.unsqueeze(2).repeat(1, 1, frames, 1, 1) / frames
