"""Deformable convolution (DCN v1 and v2) on torchvision.ops, with mmcv's parameter names.

The module learns its own offsets (and for v2 modulation masks) with a zero-initialised ``conv_offset``, so at
initialisation v1 equals a plain convolution and v2 half of one (its masks start at sigmoid(0) = 0.5, as mmcv's).
Parameter names (``weight``, ``bias``, ``conv_offset.*``) match
mmcv's DeformConv2dPack / ModulatedDeformConv2dPack, so mmdet DCN checkpoints load without renaming.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torchvision.ops import deform_conv2d


class DeformConv2dPack(nn.Module):
    """Deformable 3x3 (or k x k) convolution; ``modulated=True`` is DCNv2 (offsets plus sigmoid masks)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int = 0,
                 dilation: int = 1, groups: int = 1, deform_groups: int = 1, bias: bool = False,
                 modulated: bool = False, deformable_groups: int | None = None):
        """``deformable_groups``: mmcv's old spelling of ``deform_groups`` (mmdet's 2.x DCN configs), taken as it
        as mmcv takes it."""
        super().__init__()
        if deformable_groups is not None:
            if deform_groups not in (1, deformable_groups):
                raise ValueError(f'deformable_groups={deformable_groups} and deform_groups={deform_groups} are one '
                                 'setting (mmcv renamed it); give deform_groups alone')
            deform_groups = deformable_groups
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}')
        if isinstance(deform_groups, bool) or not isinstance(deform_groups, int) or deform_groups < 1 \
                or in_channels % deform_groups:
            # torchvision's kernel stops at the first forward with an empty message
            raise ValueError(f'deform_groups must be an integer >= 1 dividing in_channels={in_channels}; got '
                             f'{deform_groups!r}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
        self.padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
        self.dilation = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
        self.groups, self.deform_groups, self.modulated = groups, deform_groups, modulated
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        offsets_per_point = 3 if modulated else 2
        self.conv_offset = nn.Conv2d(in_channels, deform_groups * offsets_per_point * math.prod(self.kernel_size),
                                     self.kernel_size, self.stride, self.padding, self.dilation, bias=True)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_offset(x)
        mask = None
        if self.modulated:
            # mmcv's layout: [offset_y/x part 1, offset part 2, mask], each deform_groups * k * k channels.
            o1, o2, mask = out.chunk(3, dim=1)
            offset = torch.cat((o1, o2), dim=1)
            mask = mask.sigmoid()
        else:
            offset = out
        return deform_conv2d(x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask)

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, groups={self.groups}, '
                f'deform_groups={self.deform_groups}, modulated={self.modulated}')
