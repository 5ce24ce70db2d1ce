"""U-Net decoder (Ronneberger et al., 2015) that builds itself from a backbone's declared feature specs.

The encoder declares its outputs (channels, stride); the decoder walks them from the deepest up: each block
upsamples to the next shallower skip, concatenates it (optionally gated by attention) and applies two 3x3
conv-norm-ReLU layers. Blocks without a skip upsample x2 until stride 1, so any set of encoder outputs (with or
without the stride-2 stem, with or without the full-resolution input) ends at full resolution.
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

UPSAMPLE_MODES = ('nearest', 'bilinear', 'transposed')
ATTENTION_TYPES = (None, 'gate', 'scse')


def conv_norm_act(layers: LayerFactory, in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv (no bias) -> norm -> ReLU."""
    return nn.Sequential(layers.conv(in_channels, out_channels, 3), layers.norm(out_channels), nn.ReLU(inplace=True))


class AttentionGate(nn.Module):
    """Additive attention gate (Oktay et al., 2018): ``skip * sigmoid(psi(relu(W_g g + W_x skip)))``.

    The gating signal ``g`` is the upsampled decoder feature, so the gate learns where the skip is relevant.
    """

    def __init__(self, gate_channels: int, skip_channels: int):
        super().__init__()
        inter = max(skip_channels // 2, 1)
        self.w_gate = nn.Conv2d(gate_channels, inter, 1)
        self.w_skip = nn.Conv2d(skip_channels, inter, 1, bias=False)
        self.psi = nn.Conv2d(inter, 1, 1)

    def forward(self, gate: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return skip * torch.sigmoid(self.psi(F.relu(self.w_gate(gate) + self.w_skip(skip))))


class SCSE(nn.Module):
    """Concurrent spatial and channel squeeze-and-excitation (Roy et al., 2018) applied to the skip."""

    def __init__(self, gate_channels: int, skip_channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(skip_channels // reduction, 1)
        self.channel = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(skip_channels, hidden, 1),
                                     nn.ReLU(inplace=True), nn.Conv2d(hidden, skip_channels, 1), nn.Sigmoid())
        self.spatial = nn.Sequential(nn.Conv2d(skip_channels, 1, 1), nn.Sigmoid())

    def forward(self, gate: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return skip * self.channel(skip) + skip * self.spatial(skip)


ATTENTION_MODULES = {'gate': AttentionGate, 'scse': SCSE}


class DecoderBlock(nn.Module):
    """Upsample by ``scale``, concatenate the skip (if any), then two conv-norm-ReLU layers."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, scale: int, upsample: str,
                 attention: str | None, layers: LayerFactory):
        super().__init__()
        self.scale, self.upsample = scale, upsample
        self.up = nn.ConvTranspose2d(in_channels, in_channels, scale, scale) if upsample == 'transposed' else None
        self.attention = (ATTENTION_MODULES[attention](in_channels, skip_channels)
                          if attention and skip_channels else None)
        self.conv1 = conv_norm_act(layers, in_channels + skip_channels, out_channels)
        self.conv2 = conv_norm_act(layers, out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        size = skip.shape[-2:] if skip is not None else (x.shape[-2] * self.scale, x.shape[-1] * self.scale)
        if self.up is not None:
            x = self.up(x)
            if x.shape[-2:] != size:  # odd skip sizes: crop (or pad) the x-scale output onto the skip grid
                x = F.pad(x, (0, size[1] - x.shape[-1], 0, size[0] - x.shape[-2]))
        elif self.upsample == 'nearest':
            x = F.interpolate(x, size=size, mode='nearest')
        else:
            x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        if skip is not None:
            if self.attention is not None:
                skip = self.attention(x, skip)
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


def decoder_plan(specs: Sequence[FeatureSpec]) -> list[tuple[FeatureSpec | None, int]]:
    """(skip spec or None, upsampling factor) per block, from the deepest spec up to stride 1.

    Raises ValueError when strides repeat or a step is not a whole factor.
    """
    ordered = sorted(specs, key=lambda s: s.stride)
    strides = [s.stride for s in ordered]
    if len(set(strides)) != len(strides):
        raise ValueError(f'UNetDecoder: feature strides must be distinct; got {strides} from {list(specs)}')
    plan, prev = [], ordered[-1].stride
    for spec in reversed(ordered[:-1]):
        if prev % spec.stride:
            raise ValueError(f'UNetDecoder: stride {prev} is not a multiple of the skip stride {spec.stride}')
        plan.append((spec, prev // spec.stride))
        prev = spec.stride
    while prev > 1:
        if prev % 2:
            raise ValueError(f'UNetDecoder: cannot reach stride 1 from stride {prev} by x2 upsampling')
        plan.append((None, 2))
        prev //= 2
    return plan


@MODELS.register_module()
class UNetDecoder(BaseModule):
    """U-Net decoder sized from ``feature_specs``; returns a full-resolution map of ``out_channels`` channels.

    Args:
        feature_specs: the encoder outputs it reads, in the order forward receives them (any order of strides).
        decoder_channels: output channels per block, deepest first; one entry per block (len(decoder_plan)).
            Default: 256, 128, 64, 32, 16 ... halving down to 16 (segmentation_models_pytorch's default).
        upsample: 'nearest', 'bilinear' or 'transposed' (a learned stride-s transposed conv).
        attention: None, 'gate' (additive attention gate on skips) or 'scse' (squeeze-excitation on skips).
        norm_cfg: norm layer config (default BN).

    Forward: a sequence of tensors matching ``feature_specs`` -> (N, out_channels, H, W), where H x W is the
    stride-1 size (the input's, when every feature size is the input size divided by its stride).
    """

    def __init__(self, feature_specs: Sequence[FeatureSpec], decoder_channels: Sequence[int] | None = None,
                 upsample: str = 'nearest', attention: str | None = None, norm_cfg: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        check_choice('upsample', upsample, UPSAMPLE_MODES)
        check_choice('attention', attention, ATTENTION_TYPES)
        self.feature_specs = tuple(feature_specs)
        if not self.feature_specs or not all(isinstance(s, FeatureSpec) for s in self.feature_specs):
            raise ValueError(f'UNetDecoder: feature_specs must be a non-empty list of FeatureSpec; '
                             f'got {feature_specs!r}')
        plan = decoder_plan(self.feature_specs)
        if decoder_channels is None:
            decoder_channels = [max(16, 256 >> i) for i in range(len(plan))]
        decoder_channels = tuple(decoder_channels)
        if len(decoder_channels) != len(plan) or not all(isinstance(c, int) and c > 0 for c in decoder_channels):
            raise ValueError(f'UNetDecoder: decoder_channels needs {len(plan)} positive ints (one per block: skips '
                             f'at strides {[s.stride if s else None for s, _ in plan]}); got {decoder_channels}')
        layers = LayerFactory(dims=2, norm_cfg=norm_cfg or dict(type='BN', requires_grad=True))
        deepest = max(self.feature_specs, key=lambda s: s.stride)
        self.deepest_index = self.feature_specs.index(deepest)
        self.skip_indices = [self.feature_specs.index(s) if s else None for s, _ in plan]
        self.blocks = nn.ModuleList()
        in_channels = deepest.channels
        for (spec, scale), out_channels in zip(plan, decoder_channels):
            self.blocks.append(DecoderBlock(in_channels, spec.channels if spec else 0, out_channels, scale, upsample,
                                            attention, layers))
            in_channels = out_channels
        self.out_channels = in_channels
        self.upsample, self.attention, self.decoder_channels = upsample, attention, decoder_channels

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(features) != len(self.feature_specs):
            raise ValueError(f'UNetDecoder expects {len(self.feature_specs)} features '
                             f'({[s.name for s in self.feature_specs]}); got {len(features)}')
        x = features[self.deepest_index]
        for block, index in zip(self.blocks, self.skip_indices):
            x = block(x, None if index is None else features[index])
        return x
