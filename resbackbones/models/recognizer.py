"""Action recognition: the image classifier's glue over a video backbone, with multi-clip testing.

A clip classifier is the image classifier with a 3D backbone: backbone -> average over (T, H, W) -> dropout -> fc.
What video adds is testing on several clips (and crops) per video, given as (N, clips, C, T, H, W) and averaged
per video, as mmaction2's Recognizer3D does with ``average_clips``.
"""
from __future__ import annotations

import inspect

import torch
from torch import nn

from ..heads.action_head import I3DHead
from ..registry import MODELS
from .classifier import ImageClassifier
from .mmaction_head_args import AVERAGES, in_chunks, max_testing_views, refuse_neck, split_cls_head


@MODELS.register_module()
class Recognizer3D(ImageClassifier):
    """Video classifier over (N, C, T, H, W) clips, or (N, clips, C, T, H, W) for multi-clip testing.

    Args (besides ImageClassifier's backbone, num_classes, label_smoothing, data_preprocessor):
        dropout: before the fc (mmaction2's I3DHead default 0.5).
        average_clips: 'prob' averages softmax probabilities over a video's clips, 'score' the logits.
        multi_class: multi-label data (multi-hot labels): binary cross-entropy per class, sigmoid scores.
        cls_head: mmaction2's ``dict(type='I3DHead', num_classes, in_channels, spatial_type='avg', dropout_ratio,
            init_std, average_clips, multi_class, loss_cls)`` in place of num_classes / dropout / average_clips /
            multi_class, so mmaction2's model configs build unchanged; the fc then starts from its normal(init_std)
            as in mmaction2.
        neck: mmaction2's (TPN); refused by name, none is built here.
        train_cfg / test_cfg: mmaction2's; test_cfg may hold ``max_testing_views``: in eval mode, clips go through
            the network that many at a time (same scores, bounded memory). Other options are refused.

    'tensor' gives logits (averaged over clips), 'predict' scores averaged as ``average_clips`` says ('pred_score'
    are probabilities with 'prob'). Loss on multi-clip input treats every clip as a sample of its video's label.
    mmaction2 checkpoints load through ``load_pretrained`` (``cls_head.fc_cls`` -> ``head.fc``, backbone ConvModule
    names aligned).
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int | None = None, dropout: float = 0.5,
                 average_clips: str = 'prob', multi_class: bool = False, cls_head: dict | None = None,
                 neck: dict | None = None, train_cfg: dict | None = None, test_cfg: dict | None = None, **kwargs):
        refuse_neck('Recognizer3D', neck)
        views = max_testing_views('Recognizer3D', train_cfg, test_cfg)
        if cls_head is not None:  # mmaction2's form: the classifier's settings inside an I3DHead config
            if num_classes is not None:
                raise ValueError('Recognizer3D: give num_classes inside cls_head or as num_classes, not both')
            if cls_head.get('type') != 'I3DHead' or 'num_classes' not in cls_head:
                raise ValueError(f"Recognizer3D: cls_head must be dict(type='I3DHead', num_classes=..., ...) "
                                 f'(mmaction2); got {cls_head!r}')
            num_classes, dropout = cls_head['num_classes'], cls_head.get('dropout_ratio', 0.5)
        elif num_classes is None:
            raise ValueError("Recognizer3D needs num_classes (or mmaction2's cls_head=dict(type='I3DHead', "
                             'num_classes=...))')
        if average_clips not in AVERAGES:
            raise ValueError(f'average_clips must be one of {AVERAGES}; got {average_clips!r}')
        super().__init__(backbone, num_classes, dropout=dropout, **kwargs)
        self.average_clips, self.multi_label = average_clips, bool(multi_class)
        self.max_testing_views = views
        if cls_head is not None:
            self._take_i3d_head(cls_head)

    def _take_i3d_head(self, cls_head: dict) -> None:
        """Check ``cls_head`` as I3DHead does and take its layers (dropout, fc with mmaction2's normal init)."""
        args, self.average_clips, self.multi_label = split_cls_head('Recognizer3D', cls_head,
                                                                    self.head.fc.in_features)
        args.pop('type')
        unknown = sorted(set(args) - set(inspect.signature(I3DHead).parameters))
        if unknown:
            raise ValueError(f'Recognizer3D: cls_head has {unknown}, which I3DHead does not take')
        i3d = I3DHead(**args)
        self.head.dropout, self.head.fc = i3d.dropout, i3d.fc

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every clip, (N * clips, num_classes), and the number of clips per video."""
        if inputs.dim() not in (5, 6):
            raise ValueError(f'Recognizer3D takes (N, C, T, H, W) clips or (N, clips, C, T, H, W); got shape '
                             f'{tuple(inputs.shape)}')
        clips = inputs.shape[1] if inputs.dim() == 6 else 1
        flat = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs
        chunk = None if self.training else self.max_testing_views
        return in_chunks(lambda part: self.head(self.extract_feat(part)), flat, chunk), clips
