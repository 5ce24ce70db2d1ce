"""mmaction2's ``ACRNHead`` (Actor-Centric Relation Network, Sun et al., 2018): each actor's pooled RoI feature,
tiled over the whole frame and concatenated with the frame's feature, goes through a 1x1 and 3x3 conv, so the
actor's score can see the scene around it. It sits between the RoI extractor and ``BBoxHeadAVA``
(``shared_head``); module names follow mmcv's ConvModule so mmaction2's ACRN checkpoints load key for key.
"""
from __future__ import annotations

import torch
from torch import nn

from ...layers.non_local import ConvNorm
from ...registry import MODELS


@MODELS.register_module()
class ACRNHead(nn.Module):
    """Args (mmaction2's):
        in_channels: RoI channels + frame channels (the extractor's C twice; 3C with its ``with_global``, whose
            RoI features carry the frame's context as well).
        out_channels: channels out (the bbox head's in_channels).
        stride: spatial stride of the first 3x3 conv.
        num_convs: number of (1, 3, 3) convs (>= 1).
        conv_cfg / norm_cfg / act_cfg: Conv3d, a BN3d norm and ReLU, the only ones mmaction2's configs use.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, num_convs: int = 1,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None, act_cfg: dict | None = None, **kwargs):
        super().__init__()
        if (conv_cfg or {}).get('type', 'Conv3d') != 'Conv3d' or (act_cfg or {}).get('type', 'ReLU') != 'ReLU':
            raise ValueError(f'ACRNHead: conv_cfg must be Conv3d and act_cfg ReLU; got {conv_cfg!r}, {act_cfg!r}')
        if num_convs < 1:
            raise ValueError(f'ACRNHead: num_convs must be >= 1; got {num_convs}')
        norm_cfg = norm_cfg or dict(type='BN3d', requires_grad=True)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv1 = ConvNorm(in_channels, out_channels, norm_cfg, act=True)
        self.conv2 = ConvNorm(out_channels, out_channels, norm_cfg, act=True, kernel_size=(1, 3, 3),
                              stride=(1, stride, stride), padding=(0, 1, 1))
        self.convs = nn.ModuleList(ConvNorm(out_channels, out_channels, norm_cfg, act=True, kernel_size=(1, 3, 3),
                                            padding=(0, 1, 1)) for _ in range(num_convs - 1))
        for m in self.modules():  # mmaction2's init_weights: kaiming convs, unit-scale norms
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def bind(self, roi_channels: int, frame_channels: int) -> int:
        """Check ``in_channels`` against the RoI and frame features it joins; returns ``out_channels``."""
        if self.in_channels != roi_channels + frame_channels:
            raise ValueError(f'roi_head.shared_head.in_channels={self.in_channels}, but the RoI and frame features '
                             f'it joins have {roi_channels} + {frame_channels} channels')
        return self.out_channels

    def forward(self, roi_feats: torch.Tensor, feat: torch.Tensor, rois: torch.Tensor, **kwargs) -> torch.Tensor:
        """``roi_feats`` (R, C, T, h, w), the frame features ``feat`` (N, C, T, H, W) and ``rois`` (R, 5) ->
        (R, out_channels, T, H / stride, W / stride)."""
        height, width = feat.shape[-2:]
        actor = roi_feats.amax((2, 3, 4), keepdim=True).expand(-1, -1, feat.shape[2], height, width)
        x = torch.cat([actor, feat[rois[:, 0].long()]], dim=1)
        x = self.conv2(self.conv1(x))
        for conv in self.convs:
            x = conv(x)
        return x
