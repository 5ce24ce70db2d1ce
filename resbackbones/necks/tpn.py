"""mmaction2's ``TPN`` neck (Temporal Pyramid Network, Yang et al. 2020): features of several backbone stages,
aligned in space, slowed to different tempos, fused top-down and bottom-up into one (N, 2048, T', H', W') map.

Built with mmaction2's arguments and module names (``tpn_parts.py``), so its TPN configs and checkpoints carry over.
The auxiliary head (``aux_head_cfg``) scores the second-to-last level during training; the recognizer adds its
weighted loss as ``loss_aux``, as mmaction2 does.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..registry import MODELS
from .tpn_parts import AuxHead, DownSample, LevelFusion, SpatialModulation, TemporalModulation, conv3d

FLOWS = ('cascade', 'parallel')
PYRAMID_CHANNELS = 2048  # mmaction2's pyramid fusion always outputs 2048 channels, whatever the levels


@MODELS.register_module()
class TPN(nn.Module):
    """(level_1, ..., level_k) 5D features -> (N, 2048, T', H', W').

    Args (mmaction2's):
        in_channels: channels of the levels, e.g. (1024, 2048) for a ResNet-50's last two stages (Recognizer3D
            fills it from the backbone's feature specs when left out).
        out_channels: width of the temporal modulations and the flows between levels.
        spatial_modulation_cfg: ``dict(in_channels, out_channels)`` of SpatialModulation; derived from in_channels
            (the top level's channels) when left out, checked when given.
        temporal_modulation_cfg: ``dict(downsample_scales=(...))``, one temporal pool per level.
        upsample_cfg: nn.Upsample's arguments for the top-down flow; downsample_cfg: DownSample's for the bottom-up
            flow (None: no such flow).
        level_fusion_cfg: ``dict(in_channels, mid_channels, out_channels, downsample_scales)`` of both fusions;
            in_channels and mid_channels default to out_channels per level, downsample_scales to none.
        aux_head_cfg: ``dict(out_channels=num_classes, loss_weight=0.5)``, or None for no auxiliary head.
        flow_type: 'cascade' (bottom-up over the top-down result) or 'parallel' (both from the modulated levels).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, spatial_modulation_cfg: dict | None = None,
                 temporal_modulation_cfg: dict | None = None, upsample_cfg: dict | None = None,
                 downsample_cfg: dict | None = None, level_fusion_cfg: dict | None = None,
                 aux_head_cfg: dict | None = None, flow_type: str = 'cascade'):
        super().__init__()
        if flow_type not in FLOWS:
            raise ValueError(f'TPN: flow_type must be one of {FLOWS}; got {flow_type!r}')
        self.in_channels, self.out_channels, self.flow_type = tuple(in_channels), out_channels, flow_type
        levels = len(self.in_channels)
        scales = (temporal_modulation_cfg or {}).get('downsample_scales', ())
        if len(scales) != levels:
            raise ValueError(f'TPN: temporal_modulation_cfg.downsample_scales needs one entry per level ({levels}); '
                             f'got {temporal_modulation_cfg!r}')
        spatial_modulation_cfg = {'in_channels': self.in_channels, 'out_channels': self.in_channels[-1],
                                  **(spatial_modulation_cfg or {})}
        level_fusion_cfg = {'in_channels': (out_channels,) * levels, 'mid_channels': (out_channels,) * levels,
                            **(level_fusion_cfg or {})}
        for name, value, want in (
                ('spatial_modulation_cfg.in_channels', spatial_modulation_cfg['in_channels'], self.in_channels),
                ('spatial_modulation_cfg.out_channels', spatial_modulation_cfg['out_channels'], self.in_channels[-1]),
                ('level_fusion_cfg.in_channels', level_fusion_cfg['in_channels'], (out_channels,) * levels)):
            if (tuple(value) if isinstance(value, (list, tuple)) else value) != want:
                raise ValueError(f'TPN: {name} must be {want} (from in_channels / out_channels; leave it out to '
                                 f'derive it); got {value!r}')
        if 'out_channels' not in level_fusion_cfg:
            raise ValueError('TPN: level_fusion_cfg needs out_channels (the width of each fused flow)')
        self.spatial_modulation = SpatialModulation(**spatial_modulation_cfg)
        self.temporal_modulation_ops = nn.ModuleList(
            TemporalModulation(self.in_channels[-1], out_channels, scale) for scale in scales)
        self.upsample_ops = nn.ModuleList(
            nn.Upsample(**upsample_cfg) for _ in range(levels - 1) if upsample_cfg is not None)
        self.downsample_ops = nn.ModuleList(
            DownSample(out_channels, out_channels, **downsample_cfg) for _ in range(levels - 1)
            if downsample_cfg is not None)
        self.level_fusion_1 = LevelFusion(**level_fusion_cfg)
        self.level_fusion_2 = LevelFusion(**level_fusion_cfg)
        self.pyramid_fusion = conv3d(level_fusion_cfg['out_channels'] * 2, PYRAMID_CHANNELS, (1, 1, 1))
        self.aux_head = None if aux_head_cfg is None else AuxHead(self.in_channels[-2], **aux_head_cfg)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """mmaction2's init: Xavier-uniform convs, unit norms, the auxiliary fc normal(0.01)."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.aux_head is not None:
            nn.init.normal_(self.aux_head.fc.weight, std=0.01)
            nn.init.zeros_(self.aux_head.fc.bias)

    def forward(self, levels: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(levels) != len(self.in_channels):
            raise ValueError(f'TPN takes {len(self.in_channels)} levels (in_channels={self.in_channels}); got '
                             f'{len(levels)}')
        modulated = [op(x) for op, x in zip(self.temporal_modulation_ops, self.spatial_modulation(levels))]
        outs = list(modulated)
        for i in range(len(self.upsample_ops), 0, -1):  # top-down
            outs[i - 1] = outs[i - 1] + self.upsample_ops[i - 1](outs[i])
        top_down = self.level_fusion_1(outs)
        if self.flow_type == 'parallel':
            outs = list(modulated)
        for i, down in enumerate(self.downsample_ops):  # bottom-up
            outs[i + 1] = outs[i + 1] + down(outs[i])
        return self.pyramid_fusion(torch.cat([top_down, self.level_fusion_2(outs)], dim=1))
