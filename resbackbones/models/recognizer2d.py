"""mmaction2's ``Recognizer2D`` (TSN): a 2D backbone over a video's sampled frames, averaged by the head.

Inputs are (N, frames, C, H, W): ``SampleFrames(clip_len=1, num_clips=8)`` + ``FormatShape('NCHW')`` give the 8
segment frames of each video (times the crops and clips of a test pipeline). Every frame goes through the backbone
as an image; ``TSNHead`` averages the frame features of a video (consensus) before its classifier, so all of a
video's views count, as mmaction2 does without ``fcn_test``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..necks.tpn import PYRAMID_CHANNELS
from ..registry import MODELS
from .base import TaskModel
from .classifier import ImageClassifier
from .mmaction_head_args import base_head_args, in_chunks, max_testing_views, split_cls_head
from .tpn_neck import build_tpn, tpn_losses


@MODELS.register_module()
class Recognizer2D(TaskModel):
    """TSN-style recognizer.

    Args:
        backbone: a 2D backbone config or module (its last feature is used; its channels size the head).
        cls_head: mmaction2's head config, e.g. ``dict(type='TSNHead', num_classes=400, dropout_ratio=0.4,
            average_clips='prob')``; ``in_channels`` comes from the backbone (give it only to check).
        data_preprocessor: e.g. ``dict(type='ActionDataPreprocessor', mean=..., std=..., format_shape='NCHW')``.
        neck: mmaction2's ``dict(type='TPN', ...)`` with ``cls_head=dict(type='TPNHead', ...)`` (its TPN-TSM
            configs): each clip's ``num_segments`` frames (the backbone's, else all of a video's) become the time
            axis of the neck's levels; with an auxiliary head, training adds ``loss_aux`` as mmaction2.
        train_cfg / test_cfg: mmaction2's; test_cfg may hold ``max_testing_views``: in eval mode, frames go through
            the backbone that many at a time (a multiple of a TSM backbone's num_segments); with a neck also
            ``fcn_test`` (same scores, as for Recognizer3D). Others are refused.

    Modes: 'tensor' -> (N, num_classes) logits; 'loss' -> cross-entropy; 'predict' -> dicts with 'pred_label',
    'pred_score' (softmax with average_clips='prob', logits with 'score') and 'gt_label'.
    """

    def __init__(self, backbone: dict | nn.Module, cls_head: dict, data_preprocessor: dict | None = None,
                 neck: dict | None = None, train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | None = None):
        if data_preprocessor is None:  # mmaction2's default: stack and cast, no normalisation
            data_preprocessor = dict(type='ActionDataPreprocessor', format_shape='NCHW')
        if isinstance(data_preprocessor, dict):  # from our registry, also outside a runner's default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        self.max_testing_views = max_testing_views('Recognizer2D', train_cfg, test_cfg,
                                                   getattr(self.backbone, 'num_segments', 1),
                                                   also=('fcn_test',) if neck is not None else ())
        channels = PYRAMID_CHANNELS if neck is not None else self.backbone.feature_specs[-1].channels
        head, self.average_clips, self.multi_label = split_cls_head('Recognizer2D', cls_head, channels)
        self.label_smoothing, self.topk = base_head_args('Recognizer2D', head)
        if (head['type'] == 'TPNHead') != (neck is not None):
            raise ValueError(f"Recognizer2D: cls_head type {head['type']!r} with neck={neck!r}: a TPN neck goes "
                             'with TPNHead, and TPNHead with a TPN neck (mmaction2\'s TPN-TSM)')
        self.neck = build_tpn('Recognizer2D', neck, self.backbone, self.multi_label)
        self.head = MODELS.build(head)

    @staticmethod
    def check_frames(inputs: torch.Tensor) -> None:
        if inputs.dim() != 5:
            raise ValueError(f'Recognizer2D takes (N, frames, C, H, W) (FormatShape NCHW); got shape '
                             f'{tuple(inputs.shape)}')

    def frame_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """The backbone's last feature map of every frame, (N * frames, C, h, w)."""
        self.check_frames(inputs)
        segments = getattr(self.backbone, 'num_segments', None)
        if segments and inputs.shape[1] % segments:  # a temporal shift group would straddle two videos, so a
            # video's scores changed with its batch neighbour
            raise ValueError(f'Recognizer2D: {inputs.shape[1]} frames per video do not split into clips of the '
                             f"backbone's num_segments={segments}; sample a multiple of it (SampleFrames num_clips)")
        chunk = None if self.training else self.max_testing_views
        return in_chunks(lambda frames: self.backbone(frames)[-1], inputs.flatten(0, 1), chunk)

    def clip_levels(self, frames: torch.Tensor, segments: int) -> list[torch.Tensor]:
        """The backbone's outputs for (N * frames, C, H, W), each as (N * frames / segments, C_i, segments, h, w):
        a clip's frames along time, as a TPN neck takes them."""
        return [x.view(-1, segments, *x.shape[1:]).transpose(1, 2) for x in self.backbone(frames)]

    def segments(self, inputs: torch.Tensor) -> int:
        """Frames per clip for the neck: the backbone's num_segments (TSM), else all of a video's frames."""
        self.check_frames(inputs)
        segments = getattr(self.backbone, 'num_segments', None) or inputs.shape[1]
        if inputs.shape[1] % segments:
            raise ValueError(f'Recognizer2D: {inputs.shape[1]} frames per video do not split into clips of '
                             f'num_segments={segments}')
        return segments

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The head's logits, (N * clips, num_classes), and the clips per video: 1 for TSNHead (its consensus spans
        all of a video's frames), ``frames // num_segments`` for TSMHead (one row per clip) and a TPN neck."""
        if self.neck is not None:
            segments, chunk = self.segments(inputs), None if self.training else self.max_testing_views
            if chunk is not None and chunk % segments:  # a chunk would cut a clip: a bare reshape error
                raise ValueError(f'Recognizer2D: test_cfg.max_testing_views={chunk} must be a multiple of the '
                                 f'{segments} frames of a clip the TPN neck takes (the backbone has no '
                                 f'num_segments, so a clip is all of a video\'s frames)')
            logits = in_chunks(lambda frames: self.head(self.neck(self.clip_levels(frames, segments))),
                               inputs.flatten(0, 1), chunk)
            return logits, logits.shape[0] // inputs.shape[0]
        head_segments = getattr(self.head, 'num_segments', None)  # TRN / temporal heads relate a clip's frames
        if head_segments and inputs.dim() == 5 and inputs.shape[1] % head_segments:
            raise ValueError(f'Recognizer2D: {inputs.shape[1]} frames per video do not split into clips of the '
                             f"head's num_segments={head_segments}; sample a multiple of it (SampleFrames num_clips)")
        logits = self.head(self.frame_features(inputs), num_segs=inputs.shape[1])
        if logits.shape[0] % inputs.shape[0]:
            raise ValueError(f'Recognizer2D: the head gave {logits.shape[0]} rows of logits for {inputs.shape[0]} '
                             f'videos of {inputs.shape[1]} frames')
        return logits, logits.shape[0] // inputs.shape[0]

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        """Cross-entropy over every clip (the classifier's); with a TPN auxiliary head, also ``loss_aux``."""
        if self.neck is None or self.neck.aux_head is None:
            return ImageClassifier.loss(self, inputs, data_samples)
        levels = self.clip_levels(inputs.flatten(0, 1), self.segments(inputs))
        logits = self.head(self.neck(levels))
        return tpn_losses(logits, self.neck, levels, data_samples, logits.shape[0] // inputs.shape[0],
                          self.label_smoothing)

    # Averaging a video's clips (logits for 'tensor', as average_clips says for 'predict') is the classifier's.
    tensor, predict = ImageClassifier.tensor, ImageClassifier.predict
    average_scores = ImageClassifier.average_scores
    scores_to_predictions = staticmethod(ImageClassifier.scores_to_predictions)
