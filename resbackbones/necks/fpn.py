"""Feature Pyramid Network (Lin et al., 2017) with mmdet's arguments and torchvision's arithmetic.

The top-down path, the 1x1 lateral and 3x3 output convs, nearest upsampling to the lateral's size and the extra
level by stride-2 max-pool (``add_extra_convs=False``) are exactly torchvision's ``FeaturePyramidNetwork`` +
``LastLevelMaxPool``, so torchvision detection checkpoints give the same features (see
``resbackbones.weights.torchvision_detection``).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from ..registry import MODELS
from ..structures import FeatureSpec

EXTRA_CONVS = (False, 'on_input', 'on_lateral', 'on_output')


@MODELS.register_module()
class FPN(BaseModule):
    """FPN neck: a tuple of backbone features in, ``num_outs`` features of ``out_channels`` out (finest first).

    Args:
        in_channels: channels of each backbone output. Detectors fill it (and ``in_strides``) from the backbone's
            ``feature_specs``; configs leave it out.
        out_channels: channels of every pyramid level (256 in the papers).
        num_outs: number of outputs; levels past the used inputs are extra levels (P6, P7 ...).
        start_level / end_level: the backbone outputs used (end inclusive, -1 for the last).
        add_extra_convs: False: extra levels by stride-2 max-pool (Faster/Mask R-CNN); 'on_input' / 'on_lateral' /
            'on_output': stride-2 3x3 convs on the last used input, lateral or output (RetinaNet); True = 'on_input'.
        relu_before_extra_convs: ReLU before each extra conv after the first.
        in_strides: strides of the inputs, for ``feature_specs``; detectors fill it from the backbone.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int = 256, num_outs: int = 5, start_level: int = 0,
                 end_level: int = -1, add_extra_convs: bool | str = False, relu_before_extra_convs: bool = False,
                 in_strides: Sequence[int] | None = None, init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        if not in_channels or not all(isinstance(c, int) and c > 0 for c in in_channels):
            raise ValueError(f'FPN: in_channels must be a non-empty list of positive ints; got {in_channels!r}')
        if in_strides is not None and len(in_strides) != len(in_channels):
            raise ValueError(f'FPN: in_strides {list(in_strides)} must have one entry per input '
                             f'(in_channels {list(in_channels)})')
        n = len(in_channels)
        end = n - 1 if end_level == -1 else end_level
        if not 0 <= start_level <= end < n:
            raise ValueError(f'FPN: need 0 <= start_level <= end_level < {n} inputs; got start_level={start_level}, '
                             f'end_level={end_level}')
        used = end - start_level + 1
        if num_outs < used:
            raise ValueError(f'FPN: num_outs={num_outs} is fewer than the {used} inputs used')
        if add_extra_convs is True:
            add_extra_convs = 'on_input'
        if add_extra_convs not in EXTRA_CONVS:
            raise ValueError(f'FPN: add_extra_convs must be one of {EXTRA_CONVS} or True; got {add_extra_convs!r}')
        self.in_channels, self.out_channels, self.num_outs = list(in_channels), out_channels, num_outs
        self.start_level, self.end_level, self.add_extra_convs = start_level, end, add_extra_convs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.in_strides = None if in_strides is None else list(in_strides)
        used_channels = self.in_channels[start_level:end + 1]
        self.lateral_convs = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in used_channels)
        self.fpn_convs = nn.ModuleList(nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in used_channels)
        self.extra_convs = nn.ModuleList()
        if add_extra_convs:
            for i in range(num_outs - used):
                first_in = self.in_channels[end] if add_extra_convs == 'on_input' else out_channels
                c = first_in if i == 0 else out_channels
                self.extra_convs.append(nn.Conv2d(c, out_channels, 3, stride=2, padding=1))
        for m in self.modules():  # torchvision's FPN init
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.zeros_(m.bias)

    @property
    def feature_specs(self) -> tuple[FeatureSpec, ...]:
        """One FeatureSpec per output ('p2' ... for stride 4 ...): channels ``out_channels``, strides from inputs."""
        if self.in_strides is None:
            raise ValueError('FPN.feature_specs needs in_strides (detectors pass them from the backbone)')
        strides = self.in_strides[self.start_level:self.end_level + 1]
        while len(strides) < self.num_outs:
            strides.append(strides[-1] * 2)
        return tuple(FeatureSpec(f'p{s.bit_length() - 1}', self.out_channels, s) for s in strides)

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """``inputs``: the backbone's tuple, (N, in_channels[i], H_i, W_i); returns ``num_outs`` (N, C, H, W)."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'FPN expects {len(self.in_channels)} inputs (in_channels {self.in_channels}); '
                             f'got {len(inputs)}')
        feats = inputs[self.start_level:self.end_level + 1]
        last = self.lateral_convs[-1](feats[-1])
        laterals = [last]
        outs = [self.fpn_convs[-1](last)]
        for i in range(len(feats) - 2, -1, -1):
            lateral = self.lateral_convs[i](feats[i])
            last = lateral + F.interpolate(last, size=lateral.shape[-2:], mode='nearest')
            laterals.insert(0, last)
            outs.insert(0, self.fpn_convs[i](last))
        if not self.add_extra_convs:
            while len(outs) < self.num_outs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            return tuple(outs)
        source = {'on_input': feats[-1], 'on_lateral': laterals[-1], 'on_output': outs[-1]}[self.add_extra_convs]
        for i, conv in enumerate(self.extra_convs):
            x = source if i == 0 else outs[-1]
            outs.append(conv(F.relu(x) if i and self.relu_before_extra_convs else x))
        return tuple(outs)
