"""Image classifier: backbone -> global average pool -> linear head. The task glue for classification."""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from ..registry import MODELS


def _labels(data_samples, device: torch.device) -> torch.Tensor:
    """Labels from a collated tensor, a list of ints/0-d tensors, a list of dicts with 'gt_label', or mmengine's
    ``pseudo_collate`` output (one dict of lists)."""
    if isinstance(data_samples, Mapping):
        data_samples = data_samples['gt_label']
    if isinstance(data_samples, torch.Tensor):
        return data_samples.to(device).long().view(-1)
    labels = [s['gt_label'] if isinstance(s, dict) else s for s in data_samples]
    return torch.as_tensor([int(label) for label in labels], device=device)


def with_labels(preds: list[dict], data_samples, device: torch.device) -> list[dict]:
    """``preds`` with each sample's 'gt_label' added when labels were given (for the evaluators)."""
    if data_samples is not None:
        for pred, label in zip(preds, _labels(data_samples, device).tolist()):
            pred['gt_label'] = label
    return preds


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """Classifier whose head width comes from the backbone's last declared feature.

    Args:
        backbone: a backbone config dict (built from MODELS) or module; its last output is pooled.
        num_classes: number of classes. label_smoothing: for the cross-entropy loss. dropout: before the fc.
        data_preprocessor: mmengine data preprocessor config (normalisation, device moves).

    Forward modes: 'tensor' -> logits (N, num_classes); 'loss' -> {'loss': ...}; 'predict' -> one dict per
    sample with 'pred_label', 'pred_score' (softmax) and 'gt_label' when labels were given.
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int, label_smoothing: float = 0.0,
                 dropout: float = 0.0, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        in_channels = self.backbone.feature_specs[-1].channels
        self.head = MODELS.build(dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels,
                                      dropout=dropout))
        self.label_smoothing = label_smoothing

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Features (N, C) of the backbone's last output, averaged over every position (H, W, or T, H, W)."""
        return self.backbone(inputs)[-1].flatten(2).mean(dim=2)

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        logits = self.head(self.extract_feat(inputs))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            if data_samples is None:
                raise ValueError("mode='loss' needs data_samples with the labels")
            labels = _labels(data_samples, logits.device)
            return {'loss': F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)}
        if mode == 'predict':
            scores = logits.softmax(dim=1)
            preds = [{'pred_label': int(s.argmax()), 'pred_score': s.detach()} for s in scores]
            return with_labels(preds, data_samples, logits.device)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict'; got {mode!r}")
