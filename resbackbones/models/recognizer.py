"""Action recognition: the image classifier's glue over a video backbone, with multi-clip testing.

A clip classifier is the image classifier with a 3D backbone: backbone -> average over (T, H, W) -> dropout -> fc;
a SlowFast backbone's two pathways are averaged each and concatenated (mmaction2's SlowFastHead). What video adds
is testing on several clips (and crops) per video, given as (N, clips, C, T, H, W) and averaged per video, as
mmaction2's Recognizer3D does with ``average_clips``.
"""
from __future__ import annotations

import inspect

import torch
from torch import nn

from ..backbones.resnet3d_slowfast import ResNet3dSlowFast
from ..heads.action_head import I3DHead, SlowFastHead
from ..registry import MODELS
from .classifier import ImageClassifier
from .mmaction_head_args import AVERAGES, in_chunks, max_testing_views, refuse_neck, split_cls_head

HEADS = {'I3DHead': I3DHead, 'SlowFastHead': SlowFastHead}  # mmaction2 cls_head type -> the head it builds


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
            as in mmaction2. type='SlowFastHead' (same arguments) with a ResNet3dSlowFast backbone, and only there.
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
            if cls_head.get('type') not in HEADS or 'num_classes' not in cls_head:
                raise ValueError(f"Recognizer3D: cls_head must be dict(type='I3DHead' or 'SlowFastHead', "
                                 f'num_classes=..., ...) (mmaction2); got {cls_head!r}')
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
            self._take_cls_head(cls_head)

    @property
    def two_pathways(self) -> bool:
        return isinstance(self.backbone, ResNet3dSlowFast)

    def pooled_channels(self) -> int:
        """The last output's channels; both pathways' together for SlowFast."""
        if self.two_pathways:
            return sum(spec.channels for spec in self.backbone.feature_specs)
        return super().pooled_channels()

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C) features averaged over (T, H, W); SlowFast's fast then slow pathway, as its head concatenates."""
        if self.two_pathways:
            return SlowFastHead.pool(self.backbone(inputs))
        return super().extract_feat(inputs)

    def _take_cls_head(self, cls_head: dict) -> None:
        """Check ``cls_head`` as its mmaction2 class does and take its layers (dropout, fc with normal init)."""
        args, self.average_clips, self.multi_label = split_cls_head('Recognizer3D', cls_head,
                                                                    self.head.fc.in_features)
        head_type = args.pop('type')
        if (head_type == 'SlowFastHead') != self.two_pathways:
            raise ValueError(f'Recognizer3D: cls_head type {head_type!r} does not fit a '
                             f'{type(self.backbone).__name__} backbone (SlowFastHead goes with ResNet3dSlowFast, '
                             'I3DHead with one-pathway backbones)')
        unknown = sorted(set(args) - set(inspect.signature(HEADS[head_type]).parameters))
        if unknown:
            raise ValueError(f'Recognizer3D: cls_head has {unknown}, which {head_type} does not take')
        head = HEADS[head_type](**args)
        self.head.dropout, self.head.fc = head.dropout, head.fc

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every clip, (N * clips, num_classes), and the number of clips per video."""
        if inputs.dim() not in (5, 6):
            raise ValueError(f'Recognizer3D takes (N, C, T, H, W) clips or (N, clips, C, T, H, W); got shape '
                             f'{tuple(inputs.shape)}')
        clips = inputs.shape[1] if inputs.dim() == 6 else 1
        flat = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs
        chunk = None if self.training else self.max_testing_views
        return in_chunks(lambda part: self.head(self.extract_feat(part)), flat, chunk), clips
