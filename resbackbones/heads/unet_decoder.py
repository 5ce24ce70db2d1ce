"""U-Net decoder (Ronneberger et al., 2015) that builds itself from a backbone's declared feature specs.

The encoder declares its outputs (channels, stride); the decoder walks them from the deepest up: each block
upsamples to the next shallower skip, concatenates it (optionally gated by attention) and applies two 3x3
conv-norm-ReLU layers. Blocks without a skip upsample x2 until stride 1, so any set of encoder outputs (with or
without the stride-2 stem, with or without the full-resolution input) ends at full resolution. With ``dims=3`` the
same decoder works on volumes (N, C, D, H, W): 3x3x3 convs, trilinear or nearest upsampling, and a plan per axis,
since a volumetric encoder may downsample depth less than H and W (the spec's ``temporal_stride`` is its depth).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from ..backbones.validation import check_choice
from ..layers import LayerFactory
from ..registry import MODELS
from ..structures import FeatureSpec

UPSAMPLE_MODES = ('nearest', 'bilinear', 'trilinear', 'transposed')  # bilinear and trilinear: linear in each axis
ATTENTION_TYPES = (None, 'gate', 'scse')
CONV = {2: nn.Conv2d, 3: nn.Conv3d}
Scale = tuple[int, ...]  # upsampling factor per spatial axis: (h, w) or (d, h, w)


def conv_norm_act(layers: LayerFactory, in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 (3x3x3 for volumes) conv (no bias) -> norm -> ReLU."""
    conv = layers.conv(in_channels, out_channels, 3, temporal_kernel=3 if layers.dims == 3 else 1)
    return nn.Sequential(conv, layers.norm(out_channels), nn.ReLU(inplace=True))


class AttentionGate(nn.Module):
    """Additive attention gate (Oktay et al., 2018): ``skip * sigmoid(psi(relu(W_g g + W_x skip)))``.

    The gating signal ``g`` is the upsampled decoder feature, so the gate learns where the skip is relevant.
    """

    def __init__(self, gate_channels: int, skip_channels: int, dims: int = 2):
        super().__init__()
        inter, conv = max(skip_channels // 2, 1), CONV[dims]
        self.w_gate = conv(gate_channels, inter, 1)
        self.w_skip = conv(skip_channels, inter, 1, bias=False)
        self.psi = conv(inter, 1, 1)

    def forward(self, gate: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return skip * torch.sigmoid(self.psi(F.relu(self.w_gate(gate) + self.w_skip(skip))))


class SCSE(nn.Module):
    """Concurrent spatial and channel squeeze-and-excitation (Roy et al., 2018) applied to the skip."""

    def __init__(self, gate_channels: int, skip_channels: int, dims: int = 2, reduction: int = 16):
        super().__init__()
        hidden, conv = max(skip_channels // reduction, 1), CONV[dims]
        pool = nn.AdaptiveAvgPool2d(1) if dims == 2 else nn.AdaptiveAvgPool3d(1)
        self.channel = nn.Sequential(pool, conv(skip_channels, hidden, 1), nn.ReLU(inplace=True),
                                     conv(hidden, skip_channels, 1), nn.Sigmoid())
        self.spatial = nn.Sequential(conv(skip_channels, 1, 1), nn.Sigmoid())

    def forward(self, gate: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return skip * self.channel(skip) + skip * self.spatial(skip)


ATTENTION_MODULES = {'gate': AttentionGate, 'scse': SCSE}


def _scale(scale: int | Sequence[int], dims: int) -> Scale:
    """A factor per spatial axis; an int applies to every axis (2D callers pass ints)."""
    return (scale,) * dims if isinstance(scale, int) else tuple(scale)


class DecoderBlock(nn.Module):
    """Upsample by ``scale`` (an int, or one factor per axis), concatenate the skip (if any), then two
    conv-norm-ReLU layers; ``layers.dims`` (2 or 3) chooses images or volumes."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, scale: int | Sequence[int],
                 upsample: str, attention: str | None, layers: LayerFactory):
        super().__init__()
        dims = layers.dims
        self.scale, self.upsample = _scale(scale, dims), upsample
        transposed = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
        self.up = transposed(in_channels, in_channels, self.scale, self.scale) if upsample == 'transposed' else None
        self.attention = (ATTENTION_MODULES[attention](in_channels, skip_channels, dims)
                          if attention and skip_channels else None)
        self.conv1 = conv_norm_act(layers, in_channels + skip_channels, out_channels)
        self.conv2 = conv_norm_act(layers, out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        dims = len(self.scale)
        size = tuple(skip.shape[-dims:]) if skip is not None else \
            tuple(n * f for n, f in zip(x.shape[-dims:], self.scale))
        if self.up is not None:
            x = self.up(x)
            if any(n < want for n, want in zip(x.shape[-dims:], size)):
                # a backbone whose sizes round down (an unpadded stem pool: 15 -> 30 against a skip of 32): zero
                # padding left the last rows with no decoder features; stretch onto the skip grid instead
                x = F.interpolate(x, size=size, mode='bilinear' if dims == 2 else 'trilinear', align_corners=False)
            elif tuple(x.shape[-dims:]) != size:  # odd skip sizes: crop the output onto the skip grid
                x = x[(..., *(slice(0, want) for want in size))]
        elif self.upsample == 'nearest':
            x = F.interpolate(x, size=size, mode='nearest')
        else:
            x = F.interpolate(x, size=size, mode='bilinear' if dims == 2 else 'trilinear', align_corners=False)
        if skip is not None:
            if self.attention is not None:
                skip = self.attention(x, skip)
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


def _strides(spec: FeatureSpec, dims: int) -> tuple[int, int]:
    """(depth stride, in-plane stride); depth is 1 for images."""
    return (spec.temporal_stride if dims == 3 else 1, spec.stride)


def decoder_plan(specs: Sequence[FeatureSpec], dims: int = 2) -> list[tuple[FeatureSpec | None, int | Scale]]:
    """(skip spec or None, upsampling factor) per block, from the deepest spec up to stride 1.

    2D: the factor is an int. 3D (``dims=3``): a (depth, height, width) factor, planned from each spec's
    (depth stride, in-plane stride) pair, so an encoder that keeps depth while halving H and W is decoded right.
    Raises ValueError when stride pairs repeat, or a step is not a whole factor on some axis.
    """
    if dims not in (2, 3):
        raise ValueError(f'UNetDecoder: dims must be 2 or 3; got {dims!r}')
    ordered = sorted(specs, key=lambda s: _strides(s, dims)[::-1])
    pairs = [_strides(s, dims) for s in ordered]
    if len(set(pairs)) != len(pairs):
        shown = [s.stride for s in ordered] if dims == 2 else pairs
        raise ValueError(f'UNetDecoder: feature strides must be distinct; got {shown} from {list(specs)}')

    def factor(coarse: tuple[int, int], fine: tuple[int, int]) -> int | Scale:
        if coarse[0] % fine[0] or coarse[1] % fine[1]:
            what = f'stride {coarse[1]}' if dims == 2 else f'(depth, in-plane) stride {coarse}'
            raise ValueError(f'UNetDecoder: {what} is not a multiple of the skip stride '
                             f'{fine[1] if dims == 2 else fine}')
        d, s = coarse[0] // fine[0], coarse[1] // fine[1]
        return s if dims == 2 else (d, s, s)

    plan, prev = [], pairs[-1]
    for spec, pair in zip(reversed(ordered[:-1]), reversed(pairs[:-1])):
        plan.append((spec, factor(prev, pair)))
        prev = pair
    while prev != (1, 1):
        if any(p > 1 and p % 2 for p in prev):
            raise ValueError(f'UNetDecoder: cannot reach stride 1 from stride {prev[1] if dims == 2 else prev} by '
                             f'x2 upsampling')
        step = tuple(p // 2 if p > 1 else 1 for p in prev)
        plan.append((None, factor(prev, step)))
        prev = step
    return plan


@MODELS.register_module()
class UNetDecoder(BaseModule):
    """U-Net decoder sized from ``feature_specs``; returns a full-resolution map of ``out_channels`` channels.

    Args:
        feature_specs: the encoder outputs it reads, in the order forward receives them (any order of strides).
        decoder_channels: output channels per block, deepest first; one entry per block (len(decoder_plan)).
            Default: 256, 128, 64, 32, 16 ... halving down to 16 (segmentation_models_pytorch's default).
        upsample: 'nearest', 'bilinear'/'trilinear' (linear along every axis; the same for 2D and 3D) or
            'transposed' (a learned stride-s transposed conv).
        attention: None, 'gate' (additive attention gate on skips) or 'scse' (squeeze-excitation on skips).
        norm_cfg: norm layer config (default BN).
        dims: 2 for images (N, C, H, W), 3 for volumes (N, C, D, H, W) with 3x3x3 convs; the specs' temporal
            strides are then the depth strides.

    Forward: a sequence of tensors matching ``feature_specs`` -> (N, out_channels, H, W) (or (..., D, H, W)),
    the stride-1 size (the input's, when every feature size is the input size divided by its strides).
    """

    def __init__(self, feature_specs: Sequence[FeatureSpec], decoder_channels: Sequence[int] | None = None,
                 upsample: str = 'nearest', attention: str | None = None, norm_cfg: dict | None = None,
                 dims: int = 2, init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        check_choice('dims', dims, (2, 3))
        check_choice('upsample', upsample, UPSAMPLE_MODES)
        check_choice('attention', attention, ATTENTION_TYPES)
        self.feature_specs = tuple(feature_specs)
        if not self.feature_specs or not all(isinstance(s, FeatureSpec) for s in self.feature_specs):
            raise ValueError(f'UNetDecoder: feature_specs must be a non-empty list of FeatureSpec; '
                             f'got {feature_specs!r}')
        plan = decoder_plan(self.feature_specs, dims)
        if decoder_channels is None:
            decoder_channels = [max(16, 256 >> i) for i in range(len(plan))]
        if not isinstance(decoder_channels, (list, tuple)):  # an int: 'int' object is not iterable
            raise ValueError(f'UNetDecoder: decoder_channels needs {len(plan)} positive ints, one per block; got '
                             f'{decoder_channels!r}')
        decoder_channels = tuple(decoder_channels)
        if len(decoder_channels) != len(plan) or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0
                                                         for c in decoder_channels):
            raise ValueError(f'UNetDecoder: decoder_channels needs {len(plan)} positive ints (one per block: skips '
                             f'at strides {[s.stride if s else None for s, _ in plan]}); got {decoder_channels}')
        layers = LayerFactory(dims=dims, norm_cfg=norm_cfg or dict(type='BN', requires_grad=True))
        deepest = max(self.feature_specs, key=lambda s: _strides(s, dims)[::-1])
        self.deepest_index = self.feature_specs.index(deepest)
        self.skip_indices = [self.feature_specs.index(s) if s else None for s, _ in plan]
        self.blocks = nn.ModuleList()
        in_channels = deepest.channels
        for (spec, scale), out_channels in zip(plan, decoder_channels):
            self.blocks.append(DecoderBlock(in_channels, spec.channels if spec else 0, out_channels, scale, upsample,
                                            attention, layers))
            in_channels = out_channels
        self.out_channels = in_channels
        self.upsample, self.attention, self.decoder_channels, self.dims = upsample, attention, decoder_channels, dims

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(features) != len(self.feature_specs):
            raise ValueError(f'UNetDecoder expects {len(self.feature_specs)} features '
                             f'({[s.name for s in self.feature_specs]}); got {len(features)}')
        x = features[self.deepest_index]
        for block, index in zip(self.blocks, self.skip_indices):
            x = block(x, None if index is None else features[index])
        return x
