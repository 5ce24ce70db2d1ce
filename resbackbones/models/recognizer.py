"""Action recognition: the image classifier's glue over a video backbone, with multi-clip testing.

A clip classifier is the image classifier with a 3D backbone: backbone -> average over (T, H, W) -> dropout -> fc.
What video adds is testing on several clips (and crops) per video, given as (N, clips, C, T, H, W) and averaged
per video, as mmaction2's Recognizer3D does with ``average_clips``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..registry import MODELS
from .classifier import ImageClassifier

AVERAGES = ('prob', 'score')


@MODELS.register_module()
class Recognizer3D(ImageClassifier):
    """Video classifier over (N, C, T, H, W) clips, or (N, clips, C, T, H, W) for multi-clip testing.

    Args (besides ImageClassifier's backbone, num_classes, label_smoothing, data_preprocessor):
        dropout: before the fc (mmaction2's I3DHead default 0.5).
        average_clips: 'prob' averages softmax probabilities over a video's clips, 'score' the logits.

    'tensor' gives logits (averaged over clips), 'predict' scores averaged as ``average_clips`` says ('pred_score'
    are probabilities with 'prob'). Loss on multi-clip input treats every clip as a sample of its video's label.
    mmaction2 checkpoints load through ``load_pretrained`` (``cls_head.fc_cls`` -> ``head.fc``, backbone ConvModule
    names aligned).
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int, dropout: float = 0.5,
                 average_clips: str = 'prob', **kwargs):
        if average_clips not in AVERAGES:
            raise ValueError(f'average_clips must be one of {AVERAGES}; got {average_clips!r}')
        super().__init__(backbone, num_classes, dropout=dropout, **kwargs)
        self.average_clips = average_clips

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every clip, (N * clips, num_classes), and the number of clips per video."""
        if inputs.dim() not in (5, 6):
            raise ValueError(f'Recognizer3D takes (N, C, T, H, W) clips or (N, clips, C, T, H, W); got shape '
                             f'{tuple(inputs.shape)}')
        clips = inputs.shape[1] if inputs.dim() == 6 else 1
        return self.head(self.extract_feat(inputs.flatten(0, 1) if inputs.dim() == 6 else inputs)), clips
