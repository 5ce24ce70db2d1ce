"""Input-channel adaptation of the first conv, so RGB weights start a grey (1), RGB-D (4) or N-channel model.

Follows timm's ``adapt_input_conv``: for 1 channel sum the RGB kernels (a grey image replicated to RGB gives the same
output); for N != 3 repeat the RGB kernels cyclically and scale by 3/N so activations keep their magnitude.
"""
from __future__ import annotations

import math

import torch

FIRST_CONV_KEYS = ('conv1.weight', 'stem.0.weight')  # classic and deep stem, in backbone key space


def adapt_input_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first-conv kernel (out, 3, *k) turned into (out, in_channels, *k); computed in fp32, returned in its dtype."""
    if weight.dim() < 3 or weight.shape[1] != 3:
        raise ValueError(f'input-channel adaptation needs an RGB kernel (out, 3, ...); got shape {tuple(weight.shape)}')
    if not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f'in_channels must be an integer >= 1; got {in_channels!r}')
    w = weight.float()
    if in_channels == 1:
        out = w.sum(dim=1, keepdim=True)
    else:
        repeats = math.ceil(in_channels / 3)
        out = w.repeat(1, repeats, *([1] * (w.dim() - 2)))[:, :in_channels] * (3 / in_channels)
    return out.to(weight.dtype)


def can_adapt(key: str, ckpt_shape: torch.Size, model_shape: torch.Size) -> bool:
    """True when ``key`` is the first conv and only its input channels differ, from 3."""
    return (key in FIRST_CONV_KEYS and len(ckpt_shape) == len(model_shape) and ckpt_shape[1] == 3
            and model_shape[1] != 3 and ckpt_shape[0] == model_shape[0] and ckpt_shape[2:] == model_shape[2:])
