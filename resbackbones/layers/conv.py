"""Convolutions built from mmdet-style ``conv_cfg`` dicts: plain 2D/3D or deformable (torchvision.ops)."""
from __future__ import annotations

from torch import nn

from .deform_conv import DeformConv2dPack

CONV_TYPES = ('Conv2d', 'Conv3d', 'DCN', 'DCNv2')


def build_conv_layer(cfg: dict | None, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                     dilation=1, groups: int = 1, bias: bool = False) -> nn.Module:
    """Build a convolution; ``cfg=None`` means ``Conv2d``.

    Args:
        cfg: ``dict(type=...)`` with type in CONV_TYPES. DCN/DCNv2 take ``deform_groups`` (default 1);
            ``fallback_on_stride`` is handled by the caller, since it depends on the block's stride.
        kernel_size, stride, padding, dilation: ints, or tuples of length 3 for ``Conv3d`` (t, h, w).
    """
    cfg = dict(cfg or {'type': 'Conv2d'})
    conv_type = cfg.pop('type', None)
    cfg.pop('fallback_on_stride', None)
    if conv_type in ('Conv2d', 'Conv'):
        return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, **cfg)
    if conv_type == 'Conv3d':
        return nn.Conv3d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, **cfg)
    if conv_type in ('DCN', 'DCNv2'):
        return DeformConv2dPack(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                                bias=bias, modulated=conv_type == 'DCNv2', **cfg)
    raise ValueError(f'conv type must be one of {CONV_TYPES}; got {conv_type!r}')
