"""One pathway of SlowFast (Feichtenhofer et al., 2019): the core's ResNet3d, plus the lateral connections through
which the slow pathway takes the fast one's features.

A lateral is a (k, 1, 1) conv with temporal stride ``speed_ratio`` over the fast pathway's output after its stem and
after each stage but the last; its output is concatenated to the slow pathway's channels before the next stage. The
core takes those extra input channels as data (``fused_channels``); this class only adds the convs, named as in
mmaction2 (``conv1_lateral``, ``layerN_lateral``, each with mmcv ConvModule children ``conv`` / ``bn`` /
``activate``), so its checkpoints load key for key. ``ResNet3dSlowFast`` builds and drives two of them.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..layers import LayerFactory
from .resnet3d import ResNet3d
from .validation import per_stage


class LateralConnection(nn.Module):
    """(N, C, T, H, W) fast features -> (N, C * lateral_infl, T / speed_ratio, H, W): a temporally strided
    (fusion_kernel, 1, 1) conv without bias, then (``lateral_norm``) a norm and a ReLU, as mmaction2's ConvModule."""

    def __init__(self, in_channels: int, out_channels: int, fusion_kernel: int, speed_ratio: int,
                 layers: LayerFactory, with_norm: bool):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, (fusion_kernel, 1, 1), (speed_ratio, 1, 1),
                              ((fusion_kernel - 1) // 2, 0, 0), bias=False)
        if with_norm:
            self.bn = layers.norm(out_channels)
            self.activate = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.activate(self.bn(x)) if hasattr(self, 'bn') else x


def _positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'ResNet3dPathway: {name} must be an integer >= 1; got {value!r}')


class ResNet3dPathway(ResNet3d):
    """mmaction2's ``ResNet3dPathway`` (its SlowFast's ``dict(type='resnet3d', ...)``): ResNet3d's arguments, and

    Args:
        lateral: whether this pathway takes the other's features (the slow one does).
        lateral_norm: a norm and ReLU after each lateral conv. fusion_kernel: the lateral conv's temporal kernel
            (odd). lateral_infl: lateral output channels per fast channel. speed_ratio: the lateral's temporal
            stride (the frame-rate ratio alpha of the two pathways). channel_ratio: the fast pathway's width divisor
            beta (checked by ResNet3dSlowFast against the two pathways' widths).
        lateral_activate: per fusion point (after the stem, after stages 1..num_stages-1), 1 to fuse there; None:
            everywhere.
        lateral_in_channels: the fast pathway's channels at each fusion point; ResNet3dSlowFast passes them from that
            pathway's feature specs (mmaction2 computes them from the slow widths and channel_ratio).
        with_pool2: must be False: mmaction2's SlowFast never applies the pathways' pool2.
    ``pretrained``: a 2D (ImageNet) or 3D ResNet checkpoint for this pathway alone, inflated; on a lateral pathway
    the fused input channels get zero weights (``weights/fused.py``), as mmaction2. lateral_inv (PoseC3D's
    transposed-conv laterals) is refused.
    """

    def __init__(self, depth: int, lateral: bool = False, lateral_inv: bool = False, lateral_norm: bool = False,
                 speed_ratio: int = 8, channel_ratio: int = 8, fusion_kernel: int = 5, lateral_infl: int = 2,
                 lateral_activate: Sequence[int] | None = None, lateral_in_channels: Sequence[int] | None = None,
                 with_pool2: bool = False, out_indices: Sequence[int] | None = None, num_stages: int = 4,
                 **kwargs):
        if lateral_inv:
            raise ValueError('ResNet3dPathway: lateral_inv=True (transposed-conv laterals, PoseC3D) is not supported')
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
                                 f'({num_stages}); ResNet3dSlowFast passes them from the fast pathway')
            fused = tuple(c * lateral_infl if on else 0 for c, on in zip(lateral_in_channels, active))
        super().__init__(depth, out_indices=(num_stages - 1,), num_stages=num_stages, with_pool2=False,
                         fused_channels=fused, **kwargs)
        self.lateral, self.speed_ratio, self.channel_ratio = lateral, speed_ratio, channel_ratio
        for i, channels in enumerate(fused):
            if channels:
                self.add_module('conv1_lateral' if i == 0 else f'layer{i}_lateral', LateralConnection(
                    channels // lateral_infl, channels, fusion_kernel, speed_ratio, self.layer_factory, lateral_norm))
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
