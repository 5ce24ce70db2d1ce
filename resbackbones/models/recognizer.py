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
from ..heads.action_head import I3DHead, SlowFastHead, TPNHead
from ..layers.pooling import global_average
from ..necks.tpn import PYRAMID_CHANNELS
from ..registry import MODELS
from .classifier import ImageClassifier
from .mmaction_head_args import AVERAGES, base_head_args, in_chunks, max_testing_views, split_cls_head
from .tpn_neck import build_tpn, tpn_losses

HEADS = {'I3DHead': I3DHead, 'SlowFastHead': SlowFastHead, 'TPNHead': TPNHead}  # mmaction2's cls_head types


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
            as in mmaction2. type='SlowFastHead' (same arguments) with a ResNet3dSlowFast backbone, and only there;
            'TPNHead' (TSNHead's defaults) after a TPN neck.
        neck: mmaction2's ``dict(type='TPN', ...)`` (``necks/tpn.py``) over the backbone's outputs (its
            ``in_channels`` must be theirs); with an ``aux_head_cfg``, training adds its weighted cross-entropy on
            the second-to-last output as ``loss_aux``, as mmaction2. Other necks are refused.
        train_cfg / test_cfg: mmaction2's; test_cfg may hold ``max_testing_views``: in eval mode, clips go through
            the network that many at a time (same scores, bounded memory), and ``fcn_test`` (TPN's configs:
            mmaction2 then scores the averaged map with a 1x1x1 conv holding the fc's weights, which is the fc
            itself, so the scores are the same). Other options are refused.

    'tensor' gives logits (averaged over clips), 'predict' scores averaged as ``average_clips`` says ('pred_score'
    are probabilities with 'prob'). Loss on multi-clip input treats every clip as a sample of its video's label.
    mmaction2 checkpoints load through ``load_pretrained`` (``cls_head.fc_cls`` -> ``head.fc``, backbone ConvModule
    names aligned).
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int | None = None, dropout: float = 0.5,
                 average_clips: str = 'prob', multi_class: bool = False, cls_head: dict | None = None,
                 neck: dict | None = None, train_cfg: dict | None = None, test_cfg: dict | None = None, **kwargs):
        self._neck_cfg = neck  # read by pooled_channels while the classifier is built
        views = max_testing_views('Recognizer3D', train_cfg, test_cfg, also=('fcn_test',))
        if cls_head is not None:  # mmaction2's form: the classifier's settings inside an I3DHead config
            given = [name for name, value, default in (('num_classes', num_classes, None), ('dropout', dropout, 0.5),
                                                       ('average_clips', average_clips, 'prob'),
                                                       ('multi_class', multi_class, False)) if value != default]
            if given:  # cls_head's (or mmaction2's defaults) replaced them without a word
                raise ValueError(f'Recognizer3D: give {", ".join(given)} inside cls_head (mmaction2: dropout_ratio '
                                 f'for dropout) or beside it, not both')
            if cls_head.get('type') not in HEADS or 'num_classes' not in cls_head:
                raise ValueError(f'Recognizer3D: cls_head must be dict(type=one of {sorted(HEADS)}, num_classes=..., '
                                 f'...) (mmaction2); got {cls_head!r}')
            num_classes, dropout = cls_head['num_classes'], cls_head.get('dropout_ratio', 0.5)
        elif num_classes is None:
            raise ValueError("Recognizer3D needs num_classes (or mmaction2's cls_head=dict(type='I3DHead', "
                             'num_classes=...))')
        if average_clips not in AVERAGES:
            raise ValueError(f'average_clips must be one of {AVERAGES}; got {average_clips!r}')
        if kwargs.get('data_preprocessor') is None:  # mmaction2's default: stack and cast (PoseC3D's heatmaps)
            kwargs['data_preprocessor'] = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
        super().__init__(backbone, num_classes, dropout=dropout, **kwargs)
        self.neck = build_tpn('Recognizer3D', neck, self.backbone, bool(multi_class or (cls_head or {}).get(
            'multi_class')))
        self.average_clips, self.multi_label = average_clips, bool(multi_class)
        self.max_testing_views = views
        if cls_head is not None:
            self._take_cls_head(cls_head)

    @property
    def two_pathways(self) -> bool:
        return isinstance(self.backbone, ResNet3dSlowFast)

    def pooled_channels(self) -> int:
        """The last output's channels; both pathways' together for SlowFast; a TPN neck's fused map's."""
        if self._neck_cfg is not None:
            return PYRAMID_CHANNELS
        if self.two_pathways:
            return sum(spec.channels for spec in self.backbone.feature_specs)
        return super().pooled_channels()

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C) features averaged over (T, H, W): of the neck's map with a neck; SlowFast's fast then slow
        pathway, as its head concatenates; else of the backbone's last output."""
        if self.neck is not None:
            return global_average(self.neck(self.backbone(inputs)))
        if self.two_pathways:
            return SlowFastHead.pool(self.backbone(inputs))
        return super().extract_feat(inputs)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        """The classifier's loss; with a TPN auxiliary head, also ``loss_aux``: its weighted cross-entropy on the
        backbone's second-to-last output (from the same forward pass)."""
        if self.neck is None or self.neck.aux_head is None:
            return super().loss(inputs, data_samples)
        flat, clips = self.flat_views(inputs)
        levels = self.backbone(flat)
        logits = self.head(global_average(self.neck(levels)))
        return tpn_losses(logits, self.neck, levels, data_samples, clips, self.label_smoothing)

    def _take_cls_head(self, cls_head: dict) -> None:
        """Check ``cls_head`` as its mmaction2 class does and take its layers (dropout, fc with normal init)."""
        args, self.average_clips, self.multi_label = split_cls_head('Recognizer3D', cls_head,
                                                                    self.head.fc.in_features)
        self.label_smoothing, self.topk = base_head_args('Recognizer3D', args)
        head_type = args.pop('type')
        if (head_type == 'SlowFastHead') != self.two_pathways:
            raise ValueError(f'Recognizer3D: cls_head type {head_type!r} does not fit a '
                             f'{type(self.backbone).__name__} backbone (SlowFastHead goes with ResNet3dSlowFast, '
                             'the others with one-pathway backbones)')
        unknown = sorted(set(args) - set(inspect.signature(HEADS[head_type]).parameters))
        if unknown:
            raise ValueError(f'Recognizer3D: cls_head has {unknown}, which {head_type} does not take')
        head = HEADS[head_type](**args)
        self.head.dropout, self.head.fc = head.dropout, head.fc

    @staticmethod
    def flat_views(inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(N * clips, C, T, H, W) and the number of clips per video."""
        if inputs.dim() not in (5, 6):
            raise ValueError(f'Recognizer3D takes (N, C, T, H, W) clips or (N, clips, C, T, H, W); got shape '
                             f'{tuple(inputs.shape)}')
        return (inputs.flatten(0, 1), inputs.shape[1]) if inputs.dim() == 6 else (inputs, 1)

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every clip, (N * clips, num_classes), and the number of clips per video."""
        flat, clips = self.flat_views(inputs)
        chunk = None if self.training else self.max_testing_views
        return in_chunks(lambda part: self.head(self.extract_feat(part)), flat, chunk), clips
