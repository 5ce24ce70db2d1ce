"""Residual blocks y = act(F(x) + shortcut(x)), built through a LayerFactory so 2D and video share them.

Module names follow torchvision (conv1/bn1, conv2/bn2, conv3/bn3, downsample), so torchvision, mmdet and mmpretrain
checkpoints map onto them key for key.
"""
from __future__ import annotations

import torch
import torch.utils.checkpoint as cp
from torch import nn

from ..layers import DropPath, LayerFactory


class _ResidualBlock(nn.Module):
    """Shared forward: residual branch, optional stochastic depth and activation checkpointing.

    Subclasses define ``residual`` (the branch F) and set ``stride``, ``temporal_stride`` and ``out_channels``, which
    stages and backbones read to declare their feature specs.
    """

    expansion = 1

    def __init__(self, downsample: nn.Module | None, drop_path: float, with_cp: bool):
        super().__init__()
        self.downsample = downsample
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.drop_path(self.residual(x))
        out += identity  # in place, as torchvision: the out-of-place add cost ~2% of a ResNet-50 forward on CPU
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad and self.training:
            out = cp.checkpoint(self._forward, x, use_reentrant=False)
        else:
            out = self._forward(x)
        return self.relu(out)


class BasicBlock(_ResidualBlock):
    """Two 3x3 convs (ResNet-18/34). ``dcn`` replaces the second conv by a deformable one.

    Args:
        in_channels: input channels; planes: width of both convs (= output channels).
        stride, dilation: of the first conv. temporal_kernels: temporal size of (conv1, conv2) for video.
        temporal_stride: temporal stride of the first conv. layers: builds the convs and norms.
        downsample: shortcut projection, or None for identity. dcn: conv_cfg of a deformable conv, or None.
        drop_path: stochastic-depth rate of this block. with_cp: recompute activations in backward to save memory.
    """

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), style: str = 'pytorch',
                 groups: int = 1, base_width: int = 64, base_channels: int = 64, dcn: dict | None = None,
                 drop_path: float = 0.0, with_cp: bool = False, temporal_kernels: tuple[int, ...] = (1, 1),
                 temporal_stride: int = 1):
        super().__init__(downsample, drop_path, with_cp)
        if groups != 1 or base_width != base_channels:
            raise ValueError('BasicBlock supports only groups=1 and base_width=base_channels '
                             f'(got groups={groups}, base_width={base_width}); use depth >= 50 for ResNeXt/wide')
        self.stride, self.temporal_stride, self.out_channels = stride, temporal_stride, planes
        self.conv1 = layers.conv(in_channels, planes, 3, stride, dilation, temporal_kernel=temporal_kernels[0],
                                 temporal_stride=temporal_stride)
        self.bn1 = layers.norm(planes)
        self.conv2 = layers.conv(planes, planes, 3, 1, dilation, temporal_kernel=temporal_kernels[1], conv_cfg=dcn)
        self.bn2 = layers.norm(planes)

    @property
    def last_norm(self) -> nn.Module:
        return self.bn2

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(_ResidualBlock):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand by 4 (ResNet-50 and deeper).

    ``style='pytorch'`` puts the stride on the 3x3 conv (torchvision, "ResNet v1.5"); ``'caffe'`` on the first 1x1
    (the original paper). The 3x3 width is int(planes * base_width / base_channels) * groups, which gives plain,
    ResNeXt (groups=32, base_width=4) and wide (base_width=128) blocks from one formula. Other arguments as in
    BasicBlock; ``temporal_kernels`` has one entry per conv (3).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), style: str = 'pytorch',
                 groups: int = 1, base_width: int = 64, base_channels: int = 64, dcn: dict | None = None,
                 drop_path: float = 0.0, with_cp: bool = False, temporal_kernels: tuple[int, ...] = (1, 1, 1),
                 temporal_stride: int = 1):
        super().__init__(downsample, drop_path, with_cp)
        width = int(planes * base_width / base_channels) * groups
        self.stride, self.temporal_stride, self.out_channels = stride, temporal_stride, planes * self.expansion
        conv1_stride, conv2_stride = (stride, 1) if style == 'caffe' else (1, stride)
        conv1_tstride, conv2_tstride = (temporal_stride, 1) if style == 'caffe' else (1, temporal_stride)
        if dcn is not None and dcn.get('fallback_on_stride', False) and conv2_stride > 1:
            dcn = None
        self.conv1 = layers.conv(in_channels, width, 1, conv1_stride, temporal_kernel=temporal_kernels[0],
                                 temporal_stride=conv1_tstride)
        self.bn1 = layers.norm(width)
        self.conv2 = layers.conv(width, width, 3, conv2_stride, dilation, groups, temporal_kernel=temporal_kernels[1],
                                 temporal_stride=conv2_tstride, conv_cfg=dcn)
        self.bn2 = layers.norm(width)
        self.conv3 = layers.conv(width, self.out_channels, 1, temporal_kernel=temporal_kernels[2])
        self.bn3 = layers.norm(self.out_channels)

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class IBasicBlock(_ResidualBlock):
    """ArcFace's improved basic block (IResNet, insightface): BN -> 3x3 -> BN -> PReLU -> 3x3 (strided) -> BN, added
    to the shortcut with no activation after the sum. Same arguments as BasicBlock; names follow insightface."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), style: str = 'pytorch',
                 groups: int = 1, base_width: int = 64, base_channels: int = 64, dcn: dict | None = None,
                 drop_path: float = 0.0, with_cp: bool = False, temporal_kernels: tuple[int, ...] = (1, 1),
                 temporal_stride: int = 1):
        super().__init__(downsample, drop_path, with_cp)
        if groups != 1 or base_width != base_channels or dcn is not None:
            raise ValueError('IBasicBlock supports only groups=1, base_width=base_channels and no dcn '
                             f'(got groups={groups}, base_width={base_width}, dcn={dcn})')
        self.relu = nn.Identity()  # IResNet adds no activation after the sum
        self.stride, self.temporal_stride, self.out_channels = stride, temporal_stride, planes
        self.bn1 = layers.norm(in_channels)
        self.conv1 = layers.conv(in_channels, planes, 3, 1, dilation, temporal_kernel=temporal_kernels[0])
        self.bn2 = layers.norm(planes)
        self.prelu = nn.PReLU(planes)
        self.conv2 = layers.conv(planes, planes, 3, stride, dilation, temporal_kernel=temporal_kernels[1],
                                 temporal_stride=temporal_stride)
        self.bn3 = layers.norm(planes)

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.prelu(self.bn2(self.conv1(self.bn1(x))))
        return self.bn3(self.conv2(out))
