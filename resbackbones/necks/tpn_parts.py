"""The parts of mmaction2's Temporal Pyramid Network (TPN, Yang et al. 2020), under its module names so its
checkpoints load key for key: each conv is an mmcv ConvModule (``conv`` / ``bn`` / ``activate``) over 3D features.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from torch import nn

CONV3D, BN3D, RELU = dict(type='Conv3d'), dict(type='BN3d', requires_grad=True), dict(type='ReLU', inplace=True)


def conv3d(in_channels: int, out_channels: int, kernel: tuple[int, int, int], stride: tuple[int, int, int] = (1, 1, 1),
           padding: tuple[int, int, int] = (0, 0, 0), groups: int = 1, norm: bool = True, act: bool = True
           ) -> ConvModule:
    """A bias-free 3D ConvModule, with BN3d and ReLU unless switched off (every TPN conv is one of these)."""
    return ConvModule(in_channels, out_channels, kernel, stride, padding, groups=groups, bias=False,
                      conv_cfg=CONV3D, norm_cfg=BN3D if norm else None, act_cfg=RELU if act else None)


class DownSample(nn.Module):
    """A 1x1x1-style ConvModule and a max-pool of ``downsample_scale`` (ceil mode), in the order
    ``downsample_position`` says ('before': pool first)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=(3, 1, 1), stride=(1, 1, 1),
                 padding=(1, 0, 0), groups: int = 1, bias: bool = False, norm: bool = False, act: bool = False,
                 downsample_position: str = 'after', downsample_scale=(1, 2, 2)):
        super().__init__()
        if bias:
            raise ValueError('TPN DownSample: bias=True is not supported (mmaction2 builds them without)')
        if downsample_position not in ('before', 'after'):
            raise ValueError(f"TPN downsample_position must be 'before' or 'after'; got {downsample_position!r}")
        self.conv = conv3d(in_channels, out_channels, kernel_size, stride, padding, groups, norm, act)
        self.pool = nn.MaxPool3d(downsample_scale, downsample_scale, (0, 0, 0), ceil_mode=True)
        self.pool_first = downsample_position == 'before'

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x)) if self.pool_first else self.pool(self.conv(x))


class LevelFusion(nn.Module):
    """Levels -> each pooled by its ``downsample_scales`` then a grouped (32) 1x1x1 conv to ``mid_channels`` ->
    concatenated -> 1x1x1 conv to ``out_channels``."""

    def __init__(self, in_channels: Sequence[int], mid_channels: Sequence[int], out_channels: int,
                 downsample_scales: Sequence[Sequence[int]] | None = None):
        super().__init__()
        # mmaction2's default holds two entries, and zip then built two branches for three levels
        downsample_scales = ((1, 1, 1),) * len(in_channels) if downsample_scales is None else downsample_scales
        if not len(in_channels) == len(mid_channels) == len(downsample_scales):
            raise ValueError(f'level_fusion_cfg: in_channels, mid_channels and downsample_scales need one entry per '
                             f'level; got {len(in_channels)}, {len(mid_channels)} and {len(downsample_scales)}')
        self.downsamples = nn.ModuleList(
            DownSample(c_in, c_mid, (1, 1, 1), padding=(0, 0, 0), groups=32, norm=True, act=True,
                       downsample_position='before', downsample_scale=scale)
            for c_in, c_mid, scale in zip(in_channels, mid_channels, downsample_scales))
        self.fusion_conv = conv3d(sum(mid_channels), out_channels, (1, 1, 1))

    def forward(self, levels: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fusion_conv(torch.cat([down(x) for down, x in zip(self.downsamples, levels)], dim=1))


class SpatialModulation(nn.Module):
    """Brings every level to the top level's channels and size: log2(out / in) stride-2 (1, 3, 3) convs, each
    doubling the channels; the top level passes through (Identity)."""

    def __init__(self, in_channels: Sequence[int], out_channels: int):
        super().__init__()
        self.spatial_modulation = nn.ModuleList()
        for channels in in_channels:
            steps = int(math.log2(out_channels // channels))
            self.spatial_modulation.append(nn.Identity() if steps < 1 else nn.ModuleList(
                conv3d(channels * 2**k, channels * 2**(k + 1), (1, 3, 3), (1, 2, 2), (0, 1, 1)) for k in range(steps)))

    def forward(self, levels: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for ops, x in zip(self.spatial_modulation, levels):
            for op in (ops if isinstance(ops, nn.ModuleList) else [ops]):
                x = op(x)
            out.append(x)
        return out


class TemporalModulation(nn.Module):
    """A grouped (32) (3, 1, 1) conv (no norm, no activation), then a temporal max-pool of ``downsample_scale``
    (ceil mode)."""

    def __init__(self, in_channels: int, out_channels: int, downsample_scale: int = 8):
        super().__init__()
        self.conv = conv3d(in_channels, out_channels, (3, 1, 1), padding=(1, 0, 0), groups=32, norm=False, act=False)
        self.pool = nn.MaxPool3d((downsample_scale, 1, 1), (downsample_scale, 1, 1), (0, 0, 0), ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class AuxHead(nn.Module):
    """Deep supervision on the second-to-last level: stride-2 (1, 3, 3) conv doubling the channels (norm, ReLU) ->
    average -> dropout 0.5 -> fc to ``out_channels`` classes. ``loss_weight`` scales its loss."""

    def __init__(self, in_channels: int, out_channels: int, loss_weight: float = 0.5, loss_cls: dict | None = None):
        super().__init__()
        if loss_cls not in (None, dict(type='CrossEntropyLoss')):
            raise ValueError(f"TPN aux_head_cfg.loss_cls must be dict(type='CrossEntropyLoss'); got {loss_cls!r}")
        self.conv = conv3d(in_channels, in_channels * 2, (1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.dropout = nn.Dropout(p=0.5)
        self.fc = nn.Linear(in_channels * 2, out_channels)
        self.loss_weight = loss_weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.conv(x).mean(dim=(2, 3, 4))))
