"""mmaction2's ``Recognizer2D`` (TSN): a 2D backbone over a video's sampled frames, averaged by the head.

Inputs are (N, frames, C, H, W): ``SampleFrames(clip_len=1, num_clips=8)`` + ``FormatShape('NCHW')`` give the 8
segment frames of each video (times the crops and clips of a test pipeline). Every frame goes through the backbone
as an image; ``TSNHead`` averages the frame features of a video (consensus) before its classifier, so all of a
video's views count, as mmaction2 does without ``fcn_test``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS
from .base import TaskModel
from .classifier import ImageClassifier
from .labels import gt_labels
from .recognizer import AVERAGES


@MODELS.register_module()
class Recognizer2D(TaskModel):
    """TSN-style recognizer.

    Args:
        backbone: a 2D backbone config or module (its last feature is used; its channels size the head).
        cls_head: mmaction2's head config, e.g. ``dict(type='TSNHead', num_classes=400, dropout_ratio=0.4,
            average_clips='prob')``; ``in_channels`` comes from the backbone (give it only to check).
        data_preprocessor: e.g. ``dict(type='ActionDataPreprocessor', mean=..., std=..., format_shape='NCHW')``.
        train_cfg / test_cfg: accepted for mmaction2 configs; must be None or empty.

    Modes: 'tensor' -> (N, num_classes) logits; 'loss' -> cross-entropy; 'predict' -> dicts with 'pred_label',
    'pred_score' (softmax with average_clips='prob', logits with 'score') and 'gt_label'.
    """

    def __init__(self, backbone: dict | nn.Module, cls_head: dict, data_preprocessor: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None, init_cfg: dict | None = None):
        if isinstance(data_preprocessor, dict):  # from our registry, also outside a runner's default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if train_cfg or test_cfg:
            raise ValueError(f'Recognizer2D: train_cfg/test_cfg options are not supported; got {train_cfg!r}, '
                             f'{test_cfg!r}')
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        head = dict(cls_head)
        self.average_clips = head.pop('average_clips', 'prob')
        if self.average_clips not in AVERAGES:
            raise ValueError(f'Recognizer2D: cls_head.average_clips must be one of {AVERAGES}; got '
                             f'{self.average_clips!r}')
        channels = self.backbone.feature_specs[-1].channels
        if head.setdefault('in_channels', channels) != channels:
            raise ValueError(f"Recognizer2D: cls_head.in_channels={head['in_channels']} but the backbone's last "
                             f'feature has {channels} channels (leave in_channels out)')
        loss_cls = head.pop('loss_cls', None)
        if loss_cls not in (None, dict(type='CrossEntropyLoss')):
            raise ValueError(f"Recognizer2D: cls_head.loss_cls must be dict(type='CrossEntropyLoss'); got {loss_cls!r}")
        self.head = MODELS.build(head)

    def frame_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """The backbone's last feature map of every frame, (N * frames, C, h, w)."""
        if inputs.dim() != 5:
            raise ValueError(f'Recognizer2D takes (N, frames, C, H, W) (FormatShape NCHW); got shape '
                             f'{tuple(inputs.shape)}')
        return self.backbone(inputs.flatten(0, 1))[-1]

    def tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.frame_features(inputs), num_segs=inputs.shape[1])

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        logits = self.tensor(inputs)
        return {'loss': F.cross_entropy(logits, gt_labels(data_samples, logits.device))}

    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        logits = self.tensor(inputs)
        scores = logits.softmax(dim=1) if self.average_clips == 'prob' else logits
        return ImageClassifier.scores_to_predictions(scores, data_samples)
