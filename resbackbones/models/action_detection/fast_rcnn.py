"""Spatio-temporal action detection as mmaction2 does it on AVA: mmdet's ``FastRCNN`` without an RPN.

People are found by an external person detector (the proposals in the data samples); the video backbone's features
are cropped per proposal (``AVARoIHead``) and each crop is scored for every action (multi-label). Training draws
the proposals that overlap a labelled person (``proposal_targets``). mmaction2's AVA configs name it
``dict(type='FastRCNN', _scope_='mmdet', backbone=dict(type='mmaction.ResNet3dSlowOnly', ...), roi_head=...)``.

Data samples (``PackActionInputs`` of an AVA pipeline): 'proposals' (P, 4) and, in training, 'gt_bboxes' (K, 4)
in input pixels and 'gt_labels' (K, num_classes) multi-hot; 'img_shape', 'flip', 'crop_quadruple' to map boxes back;
'video_id', 'timestamp' identify the key frame for ``AVAMetric``.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ...registry import MODELS
from ..base import TaskModel
from ..seg_samples import split_samples
from .fbo_head import FBOHead
from .proposal_targets import check_rcnn_train_cfg, sample
from .roi_head import AVARoIHead

VIDEO = dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
             format_shape='NCTHW')


def _where(sample: dict, index: int) -> str:
    return sample.get('img_key') or f'sample {index}'


def _boxes(sample: dict, key: str, index: int, device: torch.device) -> torch.Tensor:
    if sample.get(key) is None:
        hint = ' (give the dataset a proposal_file)' if key == 'proposals' else ''
        raise ValueError(f"FastRCNN: {_where(sample, index)} has no '{key}' in its data sample{hint}")
    boxes = torch.as_tensor(sample[key], dtype=torch.float32, device=device)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"FastRCNN: {_where(sample, index)}: '{key}' must be (n, 4) boxes x1, y1, x2, y2 in input "
                         f'pixels; got shape {tuple(boxes.shape)}')
    return boxes


def _derived_channels(roi_head: dict, specs) -> dict:
    """The RoI head config with the shared and bbox heads' ``in_channels`` filled from the backbone's feature specs
    where the config leaves them out (given ones are checked by ``AVARoIHead.bind``)."""
    roi_head = {**roi_head, 'type': 'AVARoIHead'}
    extractor = roi_head.get('bbox_roi_extractor') or {}
    frame_channels = sum(s.channels for s in specs)
    channels = frame_channels * (2 if extractor.get('with_global') else 1)
    shared = roi_head.get('shared_head')
    if isinstance(shared, dict) and shared.get('type') == 'ACRNHead':
        roi_head['shared_head'] = shared = {'in_channels': channels + frame_channels, **shared}
        channels = shared.get('out_channels', channels)
    elif isinstance(shared, dict) and shared.get('type') == 'FBOHead':
        channels = FBOHead.out_channels_of(shared, channels)
    if isinstance(roi_head.get('bbox_head'), dict):
        roi_head['bbox_head'] = {'in_channels': channels, **roi_head['bbox_head']}
    return roi_head


def _rois(boxes: Sequence[torch.Tensor]) -> torch.Tensor:
    """(R, 5) rows (index of the clip, x1, y1, x2, y2), mmdet's ``bbox2roi``."""
    return torch.cat([torch.cat([b.new_full((len(b), 1), i), b], dim=1) for i, b in enumerate(boxes)])


@MODELS.register_module()
class FastRCNN(TaskModel):
    """Args (mmdet's / mmaction2's):
        backbone: a video backbone config (ResNet3dSlowOnly, ResNet3dSlowFast ...) with ``feature_specs``.
        roi_head: ``dict(type='AVARoIHead', bbox_roi_extractor=..., bbox_head=..., shared_head=None)``; the heads'
            ``in_channels`` may be left out: they follow from the backbone's feature specs (given ones must agree).
        train_cfg: ``dict(rcnn=dict(assigner=MaxIoUAssignerAVA(...), sampler=RandomSampler(...), pos_weight))``.
        test_cfg: ``dict(rcnn=None)`` (every proposal is scored; nothing else is read).
        data_preprocessor: mmaction2's ActionDataPreprocessor config (default ImageNet mean/std, NCTHW).
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads a recognizer's (or a detector's) weights
            through ``load_pretrained``: the backbone, and the RoI head when the file has one.

    Modes: 'tensor' -> the backbone's features; 'loss' -> loss_action_cls plus logged recall/precision; 'predict'
    -> each data sample with ``pred_instances``: 'bboxes' (P, 4) in [0, 1] of the original frame and 'scores'
    (P, num_classes), the order of its proposals.
    """

    def __init__(self, backbone: dict | nn.Module, roi_head: dict | nn.Module, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, data_preprocessor: dict | None = None, init_cfg: dict | None = None,
                 neck: dict | None = None, rpn_head: dict | None = None):
        for name, value in (('neck', neck), ('rpn_head', rpn_head)):
            if value is not None:
                raise ValueError(f'FastRCNN: {name} is not supported here: AVA detection scores given proposals '
                                 'on the backbone features directly')
        preprocessor = data_preprocessor or VIDEO
        super().__init__(data_preprocessor=MODELS.build(preprocessor) if isinstance(preprocessor, dict)
                         else preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        if isinstance(roi_head, dict) and roi_head.get('type', 'AVARoIHead') != 'AVARoIHead':
            raise ValueError(f"FastRCNN: roi_head type must be 'AVARoIHead' (spatio-temporal action detection); "
                             f"got {roi_head.get('type')!r}")
        self.roi_head: AVARoIHead = (MODELS.build(_derived_channels(roi_head, self.backbone.feature_specs))
                                     if isinstance(roi_head, dict) else roi_head)
        self.roi_head.bind(self.backbone.feature_specs)
        unknown = sorted(set(train_cfg or {}) - {'rcnn'})
        if unknown:
            raise ValueError(f'FastRCNN: train_cfg keys {unknown} are not used (only rcnn: there is no RPN)')
        self.train_cfg = check_rcnn_train_cfg((train_cfg or {}).get('rcnn'))
        self.test_cfg = test_cfg

    def converts_pretrained(self) -> bool:
        """A 'Pretrained' init_cfg loads a recognizer's or classifier's backbone through our converters."""
        return True

    def tensor(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.backbone(inputs))

    def _samples(self, inputs: torch.Tensor, data_samples) -> list[dict]:
        if inputs.dim() != 5:
            raise ValueError(f'FastRCNN: inputs must be (N, C, T, H, W) clips; got shape {tuple(inputs.shape)} '
                             "(FormatShape('NCTHW', collapse=True) in the pipeline)")
        if data_samples is None:
            raise ValueError('FastRCNN: data_samples with proposals are needed: it scores given person boxes')
        return split_samples(data_samples, len(inputs), owner='FastRCNN')

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        samples = self._samples(inputs, data_samples)
        sampled = []
        for i, s in enumerate(samples):
            labels = s.get('gt_labels')
            if labels is None:
                raise ValueError(f"FastRCNN: {_where(s, i)} has no 'gt_labels' in its data sample")
            labels = torch.as_tensor(labels, dtype=torch.float32, device=inputs.device)
            gt = _boxes(s, 'gt_bboxes', i, inputs.device)
            if labels.dim() != 2 or len(labels) != len(gt) or labels.shape[1] != self.roi_head.bbox_head.num_classes:
                raise ValueError(f"FastRCNN: {_where(s, i)}: 'gt_labels' must be ({len(gt)}, "
                                 f'{self.roi_head.bbox_head.num_classes}) multi-hot rows, one per gt box; got shape '
                                 f'{tuple(labels.shape)}')
            sampled.append(sample(_boxes(s, 'proposals', i, inputs.device), gt, labels, self.train_cfg))
        logits = self.roi_head(self.backbone(inputs), _rois([p.boxes for p in sampled]), samples)
        return self.roi_head.bbox_head.loss(logits, torch.cat([p.labels for p in sampled]))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        samples = self._samples(inputs, data_samples)
        proposals = [_boxes(s, 'proposals', i, inputs.device) for i, s in enumerate(samples)]
        logits = self.roi_head(self.backbone(inputs), _rois(proposals), samples)
        for s, boxes, clip_logits in zip(samples, proposals, logits.split([len(p) for p in proposals])):
            if 'img_shape' not in s:
                s['img_shape'] = tuple(inputs.shape[-2:])
            s['pred_instances'] = self.roi_head.bbox_head.predict(clip_logits, boxes, s)
        return samples
