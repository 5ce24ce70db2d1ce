"""mmaction2's ``BBoxHeadAVA``: pool each RoI's feature over time and space, then one linear layer of action scores.

AVA labels are multi-label (a person can stand, talk and watch at once): sigmoid scores and binary cross-entropy per
class, optionally focal (``focal_gamma`` > 0). Class 0 is a placeholder (``background_class=True``): never trained
or scored. Only positive RoIs (some label on) enter the loss, as in mmaction2, which logs recall and precision at a
0.5 threshold and at top-k alongside. Boxes come back normalised to the original frame (flip and crop undone).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS


def _recall_precision(predicted: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Micro recall and precision per RoI, averaged (both (R, C) bool)."""
    hits = (predicted & target).sum(1)
    return (hits / target.sum(1).float()).mean(), (hits / (predicted.sum(1) + 1e-6)).mean()


def _top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    chosen = torch.zeros_like(scores, dtype=torch.bool)
    return chosen.scatter_(1, scores.topk(k, dim=1).indices, True)


@MODELS.register_module()
class BBoxHeadAVA(nn.Module):
    """Args (mmaction2's):
        background_class: class 0 is a placeholder, left out of loss and scores' training.
        temporal_pool_type / spatial_pool_type: 'avg' or 'max' (defaults 'avg' / 'max').
        in_channels: channels of each RoI feature (FastRCNN fills it from the backbone when left out, checks it
            when given).
        focal_gamma / focal_alpha: focal weighting of the per-class loss (0 / 1: plain cross-entropy).
        num_classes: including the placeholder class 0 (AVA: 81).
        dropout_ratio / dropout_before_pool: dropout on the RoI feature before (default) or after pooling.
        topk: k of the logged recall@k / prec@k.
        multilabel: sigmoid + BCE (True) or softmax + cross-entropy over normalised labels.
        mlp_head: Linear-ReLU-Linear instead of one Linear.
    """

    def __init__(self, background_class: bool, temporal_pool_type: str = 'avg', spatial_pool_type: str = 'max',
                 in_channels: int = 2048, focal_gamma: float = 0., focal_alpha: float = 1., num_classes: int = 81,
                 dropout_ratio: float = 0, dropout_before_pool: bool = True, topk: int | Sequence[int] | None = (3, 5),
                 multilabel: bool = True, mlp_head: bool = False):
        super().__init__()
        for name, value in (('temporal_pool_type', temporal_pool_type), ('spatial_pool_type', spatial_pool_type)):
            if value not in ('avg', 'max'):
                raise ValueError(f"BBoxHeadAVA: {name} must be 'avg' or 'max'; got {value!r}")
        topk = () if topk is None else (topk,) if isinstance(topk, int) else tuple(topk)
        if not all(isinstance(k, int) and 0 < k < num_classes for k in topk):
            raise ValueError(f'BBoxHeadAVA: topk must be integers in 1..num_classes-1={num_classes - 1}; got {topk}')
        self.background_class, self.in_channels, self.num_classes = background_class, in_channels, num_classes
        self.temporal_pool_type, self.spatial_pool_type = temporal_pool_type, spatial_pool_type
        self.focal_gamma, self.focal_alpha, self.topk, self.multilabel = focal_gamma, focal_alpha, topk, multilabel
        self.dropout_ratio, self.dropout_before_pool = dropout_ratio, dropout_before_pool
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = (nn.Sequential(nn.Linear(in_channels, in_channels), nn.ReLU(), nn.Linear(in_channels, num_classes))
                       if mlp_head else nn.Linear(in_channels, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Linear):  # mmaction2's init_weights
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(R, C, T, H, W) RoI features -> (R, num_classes) logits."""
        if self.dropout_before_pool:
            x = self.dropout(x)
        x = x.mean(2, keepdim=True) if self.temporal_pool_type == 'avg' else x.amax(2, keepdim=True)
        x = x.mean((3, 4), keepdim=True) if self.spatial_pool_type == 'avg' else x.amax((3, 4), keepdim=True)
        if not self.dropout_before_pool:
            x = self.dropout(x)
        return self.fc_cls(x.flatten(1))

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses and logged recall/precision for RoI ``logits`` against multi-hot ``labels`` (R, num_classes)."""
        if self.background_class:
            if labels[:, 0].any():  # a silently dropped label otherwise
                raise ValueError('BBoxHeadAVA: a ground-truth box has action 0, the placeholder class of '
                                 'background_class=True (AVA ids start at 1); use background_class=False when class 0 '
                                 'is an action (MultiSports)')
            logits, labels = logits[:, 1:], labels[:, 1:]
        positive = labels.sum(-1) > 0
        logits, labels = logits[positive], labels[positive]
        if not len(logits):  # no labelled RoI in the batch: nothing to learn, keep the graph for DDP
            return dict(loss_action_cls=logits.sum() * 0)
        out = self._recall_precision_log(logits.detach(), labels > 0.5)
        if self.multilabel:
            loss = F.binary_cross_entropy_with_logits(logits, labels, reduction='none')
        else:
            labels = labels / labels.sum(dim=1, keepdim=True) if self.background_class else labels
            loss = F.cross_entropy(logits, labels, reduction='none')
        focal = self.focal_alpha * (1 - torch.exp(-loss)) ** self.focal_gamma * loss
        out['loss_action_cls'] = focal.mean()
        return out

    def _recall_precision_log(self, logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        scores = logits.sigmoid() if self.multilabel else logits.softmax(dim=1)
        at_thr = scores > 0.5 if self.multilabel else _top_k(scores, 1)
        out = dict(zip(('recall@thr=0.5', 'prec@thr=0.5'), _recall_precision(at_thr, target)))
        for k in self.topk:
            out[f'recall@top{k}'], out[f'prec@top{k}'] = _recall_precision(_top_k(scores, k), target)
        return out

    def predict(self, logits: torch.Tensor, boxes: torch.Tensor, sample: dict) -> dict[str, torch.Tensor]:
        """Scores (R, num_classes) and boxes (R, 4) normalised to the original frame for one clip, from its RoI
        ``logits`` and ``boxes`` in input pixels and its data sample's ``img_shape``, ``flip`` and
        ``crop_quadruple`` (x, y, w, h of the crop as fractions of the frame)."""
        scores = logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)
        height, width = (int(v) for v in sample['img_shape'][:2])
        boxes = boxes.clone()
        if sample.get('flip', False):  # mmaction2 undoes the flip with width - 1 - x
            boxes[:, [0, 2]] = width - 1 - boxes[:, [2, 0]]
        boxes[:, 0::2] /= width
        boxes[:, 1::2] /= height
        x, y, w, h = np.asarray(sample.get('crop_quadruple', (0, 0, 1, 1)), dtype=np.float64).tolist()
        boxes[:, 0::2] = boxes[:, 0::2] * w + x
        boxes[:, 1::2] = boxes[:, 1::2] * h + y
        return dict(bboxes=boxes, scores=scores)
