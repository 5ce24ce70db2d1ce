"""One pathway of SlowFast (Feichtenhofer et al., 2019): the core's ResNet3d, plus the lateral connections through
which it takes the other pathway's features.

A lateral is a (k, 1, 1) conv with temporal stride ``speed_ratio`` over the fast pathway's output after its stem and
after each stage but the last; its output is concatenated to the slow pathway's channels before the next stage. The
core takes those extra input channels as data (``fused_channels``); this class only adds the convs, named as in
mmaction2 (``conv1_lateral``, ``layerN_lateral``, each with mmcv ConvModule children ``conv`` / ``bn`` /
``activate``), so its checkpoints load key for key. ``ResNet3dSlowFast`` builds and drives two of them. PoseC3D's RGB + pose network (``RGBPoseConv3D``) also sends
features the other way, from the few-frame wide pathway into the many-frame narrow one: an inverse lateral
(``lateral_inv``) is a transposed conv that multiplies the frames by ``speed_ratio`` and divides the channels by
``lateral_infl``, then always a norm and a ReLU (mmaction2's ``DeConvModule``: ``conv`` / ``bn`` / ``relu``).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..layers import LayerFactory
from .resnet3d import ResNet3d
from .validation import per_stage


class LateralConnection(nn.Module):
    """(N, C, T, H, W) features of the other pathway -> what joins this one's channels.

    Forward (``inverse=False``): (N, C * lateral_infl, T / speed_ratio, H, W) by a temporally strided
    (fusion_kernel, 1, 1) conv without bias, then (``with_norm``) a norm and a ReLU, as mmaction2's ConvModule.
    Inverse: (N, C / lateral_infl, T * speed_ratio, H, W) by the transposed conv, a norm and a ReLU.
    """

    def __init__(self, in_channels: int, out_channels: int, fusion_kernel: int, speed_ratio: int,
                 layers: LayerFactory, with_norm: bool, inverse: bool = False):
        super().__init__()
        conv = nn.ConvTranspose3d if inverse else nn.Conv3d
        self.conv = conv(in_channels, out_channels, (fusion_kernel, 1, 1), (speed_ratio, 1, 1),
                         ((fusion_kernel - 1) // 2, 0, 0), bias=False)
        self.inverse = inverse
        if with_norm or inverse:
            self.bn = layers.norm(out_channels)
            self.activate = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inverse:  # exactly speed_ratio x the frames (a transposed conv could give a few less)
            n, _, t, h, w = x.shape
            x = self.conv(x, output_size=(n, self.conv.out_channels, t * self.conv.stride[0], h, w))
        else:
            x = self.conv(x)
        return self.activate(self.bn(x)) if hasattr(self, 'bn') else x


def _positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'ResNet3dPathway: {name} must be an integer >= 1; got {value!r}')


class ResNet3dPathway(ResNet3d):
    """mmaction2's ``ResNet3dPathway`` (its SlowFast's ``dict(type='resnet3d', ...)``): ResNet3d's arguments, and

    Args:
        lateral: whether this pathway takes the other's features (SlowFast's slow one does).
        lateral_inv: the laterals are inverse (transposed convs from a wider pathway with fewer frames; PoseC3D's
            pose pathway): they take C channels to C / lateral_infl, always with a norm and a ReLU.
        depth: 18, 34, 50, 101 or 152 (mmaction2's default 50, which RGBPoseConv3D's pathway dicts rely on).
        lateral_norm: a norm and ReLU after each lateral conv. fusion_kernel: the lateral conv's temporal kernel
            (odd). lateral_infl: lateral output channels per fast channel (inverse: input channels per output
            channel). speed_ratio: the lateral's temporal stride (the frame-rate ratio alpha of the two pathways;
            an inverse lateral's upsampling). channel_ratio: the narrow pathway's width divisor beta (checked by the
            two-pathway backbone against the two pathways' widths).
        lateral_activate: per fusion point (after the stem, after stages 1..num_stages-1), 1 to fuse there; None:
            everywhere.
        lateral_in_channels: the other pathway's channels at each fusion point; the two-pathway backbone passes them
            from that pathway's feature specs (mmaction2 computes them from this pathway's widths and channel_ratio).
        with_pool2: must be False: mmaction2's SlowFast never applies the pathways' pool2.
    ``pretrained``: a 2D (ImageNet) or 3D ResNet checkpoint for this pathway alone, inflated; on a lateral pathway
    the fused input channels get zero weights (``weights/fused.py``), as mmaction2.
    """

    def __init__(self, depth: int = 50, lateral: bool = False, lateral_inv: bool = False, lateral_norm: bool = False,
                 speed_ratio: int = 8, channel_ratio: int = 8, fusion_kernel: int = 5, lateral_infl: int = 2,
                 lateral_activate: Sequence[int] | None = None, lateral_in_channels: Sequence[int] | None = None,
                 with_pool2: bool = False, out_indices: Sequence[int] | None = None, num_stages: int = 4,
                 **kwargs):
        if with_pool2:
            raise ValueError("ResNet3dPathway: with_pool2 must be False (mmaction2's SlowFast never applies pool2)")
        if out_indices is not None and tuple(out_indices) != (num_stages - 1,):
            raise ValueError(f'ResNet3dPathway: out_indices must be ({num_stages - 1},): SlowFast fuses and returns '
                             f'the last stage of each pathway; got {out_indices!r}')
        for name, value in (('speed_ratio', speed_ratio), ('channel_ratio', channel_ratio),
                            ('lateral_infl', lateral_infl), ('fusion_kernel', fusion_kernel)):
            _positive_int(name, value)
        if fusion_kernel % 2 == 0:
            raise ValueError(f'ResNet3dPathway: fusion_kernel must be odd (same padding in time); got {fusion_kernel}')
        active = per_stage('lateral_activate', lateral_activate, (1,) * num_stages, num_stages)
        fused = (0,) * num_stages
        if lateral:
            if lateral_in_channels is None or len(tuple(lateral_in_channels)) != num_stages:
                raise ValueError('ResNet3dPathway: a lateral pathway needs lateral_in_channels, one per fusion point '
                                 f'({num_stages}); the two-pathway backbone passes them from the other pathway')
            if lateral_inv and any(c % lateral_infl for c, on in zip(lateral_in_channels, active) if on):
                raise ValueError(f'ResNet3dPathway: an inverse lateral divides the other pathway\'s channels '
                                 f'{list(lateral_in_channels)} by lateral_infl={lateral_infl}, which must divide them')
            fused = tuple((c // lateral_infl if lateral_inv else c * lateral_infl) if on else 0
                          for c, on in zip(lateral_in_channels, active))
        super().__init__(depth, out_indices=(num_stages - 1,), num_stages=num_stages, with_pool2=False,
                         fused_channels=fused, **kwargs)
        self.lateral, self.speed_ratio, self.channel_ratio = lateral, speed_ratio, channel_ratio
        self.lateral_inv = bool(lateral_inv)
        for i, channels in enumerate(fused):
            if channels:
                in_channels = lateral_in_channels[i] if lateral_inv else channels // lateral_infl
                self.add_module('conv1_lateral' if i == 0 else f'layer{i}_lateral', LateralConnection(
                    in_channels, channels, fusion_kernel, speed_ratio, self.layer_factory, lateral_norm,
                    inverse=self.lateral_inv))
        self.reset_parameters()  # the laterals too (He init, as mmaction2's kaiming_init)
        self.train(self.training)

    def lateral_before(self, stage: int) -> LateralConnection | None:
        """The lateral whose output joins the input of stage ``stage`` (0-based), or None."""
        return getattr(self, 'conv1_lateral' if stage == 0 else f'layer{stage}_lateral', None)

    def frozen_modules(self) -> list[nn.Module]:
        """The core's frozen stem and stages plus the laterals out of frozen stages (mmaction2's rule: ``layerN``
        frozen freezes ``layerN_lateral``; ``conv1_lateral`` is never frozen)."""
        laterals = [getattr(self, f'layer{i}_lateral', None) for i in range(1, self.frozen_stages + 1)]
        return super().frozen_modules() + [m for m in laterals if m is not None]
