"""Image classifier: backbone -> global average pool -> linear head. The task glue for classification."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.pooling import global_average
from ..registry import MODELS
from .base import TaskModel
from .labels import gt_labels, gt_multi_hot, with_labels
from .mmaction_head_args import topk_accuracies


@MODELS.register_module()
class ImageClassifier(TaskModel):
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
        if isinstance(data_preprocessor, dict):  # from our registry, so ours (ActionDataPreprocessor) resolve too
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or \
                not 0 <= label_smoothing < 1:  # -0.1 trained as 0, 1.5 failed at the first step in torch
            raise ValueError(f'{type(self).__name__}: label_smoothing must be in [0, 1); got {label_smoothing!r}')
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        if not getattr(self.backbone, 'feature_specs', None):
            raise ValueError(f'{type(self).__name__}: backbone {type(self.backbone).__name__} declares no '
                             'feature_specs (the channels of its outputs), which size the head; use a registered '
                             'backbone, or give it a feature_specs list')
        self.head = MODELS.build(dict(type='LinearClsHead', num_classes=num_classes,
                                      in_channels=self.pooled_channels(), dropout=dropout))
        self.label_smoothing = label_smoothing

    def pooled_channels(self) -> int:
        """Width of ``extract_feat``'s features: the backbone's last declared output's channels."""
        return self.backbone.feature_specs[-1].channels

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Features (N, C) of the backbone's last output, averaged over every position (H, W, or T, H, W)."""
        return global_average(self.backbone(inputs)[-1])

    average_clips = 'prob'  # how 'predict' averages a sample's clips: softmax probabilities (or 'score': logits)
    multi_label = False  # recognizers set it for multi_class data: BCE on multi-hot labels, sigmoid scores
    topk: tuple[int, ...] = ()  # recognizers from mmaction2's cls_head log its top-k training accuracies

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every clip, (N * clips, num_classes), and the clips per sample: 1 for images. Video
        recognizers override only this (how several clips or segments of one sample fold into the batch)."""
        return self.head(self.extract_feat(inputs)), 1

    def tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes), averaged over a sample's clips."""
        logits, clips = self.clip_logits(inputs)
        if clips == 1:  # images: nothing to average, and no reshape + mean in an exported graph
            return logits
        return logits.view(-1, clips, logits.shape[1]).mean(dim=1)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        """Cross-entropy over every clip, each carrying its sample's label (binary cross-entropy per class on
        multi-hot labels when ``multi_label``, smoothed as mmaction2's heads do: (1 - eps) y + eps / classes)."""
        logits, clips = self.clip_logits(inputs)
        if self.multi_label:
            targets = gt_multi_hot(data_samples, logits.shape[1], logits.device).repeat_interleave(clips, dim=0)
            if self.label_smoothing:  # ignored before: the loss was the same for every eps
                targets = targets * (1 - self.label_smoothing) + self.label_smoothing / logits.shape[1]
            return {'loss': F.binary_cross_entropy_with_logits(logits, targets)}
        labels = gt_labels(data_samples, logits.device, logits.shape[1], type(self).__name__)
        labels = labels.repeat_interleave(clips)
        return {'loss': F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing),
                **topk_accuracies(logits, labels, self.topk)}

    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        """Scores averaged over a sample's clips as ``average_clips`` says ('prob': softmax probabilities, or
        per-class sigmoids when ``multi_label``)."""
        scores = self.average_scores(*self.clip_logits(inputs))
        return self.scores_to_predictions(scores, data_samples, multi_label=self.multi_label)

    def average_scores(self, logits: torch.Tensor, clips: int) -> torch.Tensor:
        """(N * clips, num_classes) clip logits -> (N, num_classes) scores as ``predict`` reports them."""
        if self.average_clips == 'prob':
            per_clip = logits.sigmoid() if self.multi_label else logits.softmax(dim=1)
        else:
            per_clip = logits
        return per_clip.view(-1, clips, per_clip.shape[1]).mean(dim=1)

    @staticmethod
    def scores_to_predictions(scores: torch.Tensor, data_samples, multi_label: bool = False) -> list[dict]:
        """One dict per row of (N, num_classes) scores: 'pred_label', 'pred_score' and 'gt_label' when given (a
        multi-hot vector for multi-label models)."""
        preds = [{'pred_label': int(s.argmax()), 'pred_score': s.detach()} for s in scores]
        return with_labels(preds, data_samples, scores.device, scores.shape[1] if multi_label else None)
