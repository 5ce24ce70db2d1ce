"""mmaction2's ``OmniHead``: one classifier for images and one for videos over the same backbone features.

OmniSource trains a network on image and video sources at once; each kind of input has its own label set (e.g.
ImageNet's 1000 classes and Kinetics' 400), so each has its own classifier, picked by the feature's rank. The
layers are mmaction2's, in its order (``fc2d.2`` is the image batch norm, ``fc2d.4`` its linear layer, ``fc3d.2``,
``fc3d.3``, ``fc3d.6`` the video MLP's), so its checkpoints load key for key.
"""
from __future__ import annotations

import torch
from torch import nn

from ..registry import MODELS


def _classes(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'OmniHead: {name} must be an integer >= 1; got {value!r}')
    return value


def _ratio(name: str, value) -> float:
    if not 0 <= value < 1:
        raise ValueError(f'OmniHead: {name} must be in [0, 1); got {value!r}')
    return value


@MODELS.register_module()
class OmniHead(nn.Module):
    """(N, C, H, W) image features -> (N, image_classes) logits; (N, C, T, H, W) clip features -> (N, video_classes).

    Args:
        image_classes, video_classes: the two label sets' sizes.
        in_channels: the backbone's output channels (the recognizer fills it in from the backbone's specs).
        image_dropout_ratio: before the image classifier (average pool -> batch norm -> dropout -> linear).
        video_dropout_ratio: before the video classifier's last linear layer.
        video_nl_head: the video classifier as a two-layer MLP (linear to 2 x video_classes -> batch norm -> ReLU
            -> dropout -> linear), mmaction2's default; False: average pool -> batch norm -> dropout -> linear.
    """

    def __init__(self, image_classes: int, video_classes: int, in_channels: int, image_dropout_ratio: float = 0.2,
                 video_dropout_ratio: float = 0.5, video_nl_head: bool = True):
        super().__init__()
        self.image_classes = _classes('image_classes', image_classes)
        self.video_classes = _classes('video_classes', video_classes)
        image_dropout, video_dropout = (_ratio('image_dropout_ratio', image_dropout_ratio),
                                        _ratio('video_dropout_ratio', video_dropout_ratio))
        self.fc2d = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(in_channels),
                                  nn.Dropout(image_dropout), nn.Linear(in_channels, image_classes))
        if video_nl_head:
            hidden = 2 * video_classes
            self.fc3d = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(in_channels, hidden),
                                      nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(video_dropout),
                                      nn.Linear(hidden, video_classes))
        else:
            self.fc3d = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.BatchNorm1d(in_channels),
                                      nn.Dropout(video_dropout), nn.Linear(in_channels, video_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            return self.fc2d(x)
        if x.dim() == 5:
            return self.fc3d(x)
        raise ValueError(f'OmniHead takes (N, C, H, W) image or (N, C, T, H, W) clip features; got shape '
                         f'{tuple(x.shape)}')
