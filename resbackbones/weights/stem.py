"""Input-channel adaptation of the first conv, so RGB weights start a grey (1), RGB-D (4) or N-channel model.

Follows timm's ``adapt_input_conv``: for 1 channel sum the RGB kernels (a grey image replicated to RGB gives the same
output); for N != 3 repeat the RGB kernels cyclically and scale by 3/N so activations keep their magnitude. The
single-channel 3D stem of MedicalNet (MRI/CT) becomes N channels by repetition divided by N, so N identical
modalities give its single-channel output. A grey 2D kernel into an RGB model stays a shape error (a wrong file).
"""
from __future__ import annotations

import math

import torch

FIRST_CONV_KEYS = ('conv1.weight', 'stem.0.weight')  # classic and deep stem, in backbone key space


def adapt_input_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first-conv kernel (out, 3, *k), or a volumetric (out, 1, d, h, w), turned into (out, in_channels, *k);
    computed in fp32, returned in its dtype."""
    volumetric_grey = weight.dim() == 5 and weight.shape[1] == 1
    if weight.dim() < 3 or (weight.shape[1] != 3 and not volumetric_grey):
        raise ValueError(f'input-channel adaptation needs an RGB kernel (out, 3, ...) or a single-channel 3D one '
                         f'(out, 1, d, h, w); got shape {tuple(weight.shape)}')
    if not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f'in_channels must be an integer >= 1; got {in_channels!r}')
    w = weight.float()
    if volumetric_grey:
        out = w.repeat(1, in_channels, 1, 1, 1) / in_channels
    elif in_channels == 1:
        out = w.sum(dim=1, keepdim=True)
    else:
        repeats = math.ceil(in_channels / 3)
        out = w.repeat(1, repeats, *([1] * (w.dim() - 2)))[:, :in_channels] * (3 / in_channels)
    return out.to(weight.dtype)


def can_adapt(key: str, ckpt_shape: torch.Size, model_shape: torch.Size) -> bool:
    """True when ``key`` is the first conv and only its input channels differ, from 3 (or 1 for a 3D kernel)."""
    source = (3, 1) if len(ckpt_shape) == 5 else (3,)
    return (key in FIRST_CONV_KEYS and len(ckpt_shape) == len(model_shape) and ckpt_shape[1] in source
            and model_shape[1] != ckpt_shape[1] and ckpt_shape[0] == model_shape[0]
            and ckpt_shape[2:] == model_shape[2:])


def adaptation_rule(from_channels: int, to_channels: int) -> str:
    """How ``adapt_input_conv`` mapped the channels, for the load report."""
    if from_channels == 1:
        return f'single channel repeated, divided by {to_channels}'
    return 'summed over RGB' if to_channels == 1 else f'RGB repeated cyclically, scaled by 3/{to_channels}'
