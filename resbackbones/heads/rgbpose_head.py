"""mmaction2's ``RGBPoseHead``: one linear classifier per pathway of ``RGBPoseConv3D``.

PoseC3D's two-stream network is trained with a loss on each stream's logits and tested on each stream and on their
weighted sums (``AccMetric`` reports 'rgb', 'pose' and 'RGBPose_1:1' ...). The layers carry mmaction2's names
(``fc_rgb``, ``fc_pose``), so its checkpoints load key for key.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..layers.pooling import global_average
from ..registry import MODELS

STREAMS = ('rgb', 'pose')


def _dropouts(dropout: float | dict) -> dict[str, float]:
    """mmaction2's ``dropout``: one probability for both streams, or dict(rgb=p, pose=q)."""
    ratios = dict.fromkeys(STREAMS, dropout) if isinstance(dropout, (int, float)) else dropout
    if not isinstance(ratios, dict) or set(ratios) != set(STREAMS) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p < 1 for p in ratios.values()):
        raise ValueError(f'RGBPoseHead: dropout must be a probability in [0, 1) or dict(rgb=p, pose=q); got '
                         f'{dropout!r}')
    return ratios


@MODELS.register_module()
class RGBPoseHead(nn.Module):
    """((N, C_rgb, T, H, W), (N, C_pose, T', H', W')) features -> dict(rgb=(N, classes), pose=(N, classes)) logits,
    each stream averaged over (T, H, W), dropped out and classified on its own.

    Args:
        num_classes: classes of both classifiers.
        in_channels: (C_rgb, C_pose), the backbone's two outputs (the recognizer fills them in from its specs).
        dropout: before each classifier; a float for both or dict(rgb=p, pose=q).
        init_std: the classifiers' weights start normal(0, init_std), biases zero (mmaction2's normal_init).
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int], dropout: float | dict = 0.5,
                 init_std: float = 0.01):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'RGBPoseHead: num_classes must be an integer >= 1; got {num_classes!r}')
        if len(tuple(in_channels)) != 2:
            raise ValueError(f'RGBPoseHead: in_channels must be (rgb channels, pose channels); got {in_channels!r}')
        ratios = _dropouts(dropout)
        self.dropout_rgb, self.dropout_pose = nn.Dropout(ratios['rgb']), nn.Dropout(ratios['pose'])
        self.fc_rgb = nn.Linear(in_channels[0], num_classes)
        self.fc_pose = nn.Linear(in_channels[1], num_classes)
        for fc in (self.fc_rgb, self.fc_pose):
            nn.init.normal_(fc.weight, 0, init_std)
            nn.init.zeros_(fc.bias)

    def forward(self, features: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        if len(features) != 2:
            raise ValueError(f'RGBPoseHead takes (rgb features, pose features); got {len(features)} tensors')
        rgb, pose = (global_average(x) for x in features)
        return dict(rgb=self.fc_rgb(self.dropout_rgb(rgb)), pose=self.fc_pose(self.dropout_pose(pose)))
