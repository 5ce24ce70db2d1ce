"""mmaction2's ``RecognizerOmni`` (OmniSource): one network trained on image and video sources in the same steps.

``MultiLoaderEpochBasedTrainLoop`` hands the model one batch per source (a tuple of batches); the loss is each
source's cross-entropy on its own classifier (``OmniHead`` picks it by the input's rank), suffixed with the source's
index as mmaction2 names them (``loss_cls_0`` for the videos, ``loss_cls_1`` for the images). Testing and the
'tensor' mode take one source, like any recognizer.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..heads.omni_head import OmniHead
from ..registry import MODELS
from .base import TaskModel
from .classifier import ImageClassifier
from .labels import gt_labels
from .mmaction_head_args import base_head_args, split_cls_head, topk_accuracies

IMAGE, CLIPS, VIEWS = 4, 5, 6  # input ranks: (N, C, H, W), (N, C, T, H, W), (N, views, C, T, H, W)


@MODELS.register_module()
class RecognizerOmni(TaskModel):
    """Images and clips through one backbone (``OmniResNet``) and ``OmniHead``.

    Args:
        backbone: a config (or module) taking (N, C, H, W) images and (N, C, T, H, W) clips, e.g. OmniResNet.
        cls_head: mmaction2's ``dict(type='OmniHead', image_classes, video_classes, in_channels, average_clips,
            loss_cls, label_smooth_eps, topk, image_dropout_ratio, video_dropout_ratio, video_nl_head)``;
            in_channels may be left out (it is the backbone's last feature's); only the cross-entropy loss.
        data_preprocessor: e.g. ``ActionDataPreprocessor(format_shape='MIX2d3d')``, which normalises image and clip
            batches alike.

    'loss' gives per source i ``loss_cls_i`` and ``top{k}_acc_i`` (logged, not optimised); 'predict' one dict per
    sample with scores averaged over its views as ``average_clips`` says; 'tensor' the logits.
    """

    def __init__(self, backbone: dict | nn.Module, cls_head: dict, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        if not isinstance(cls_head, dict) or cls_head.get('type') != 'OmniHead':
            raise ValueError(f"RecognizerOmni: cls_head must be dict(type='OmniHead', image_classes=..., "
                             f'video_classes=..., ...) (mmaction2); got {cls_head!r}')
        args, self.average_clips, multi_label = split_cls_head('RecognizerOmni', cls_head,
                                                               self.backbone.feature_specs[-1].channels)
        if multi_label:
            raise ValueError('RecognizerOmni: multi_class is not supported (OmniHead trains with cross-entropy)')
        args.pop('type')
        self.label_smoothing, self.topk = base_head_args('RecognizerOmni', args)
        try:
            self.cls_head = OmniHead(**args)
        except TypeError as err:
            raise ValueError(f'RecognizerOmni: cls_head: {err}') from err

    def forward(self, *sources, mode: str = 'tensor', **batch):
        """A tuple of batches, one per source (``MultiLoaderEpochBasedTrainLoop``), as positional dicts; else the
        usual ``(inputs, data_samples, mode)``."""
        if sources and all(isinstance(source, dict) for source in sources):
            if mode != 'loss':
                raise ValueError(f"RecognizerOmni: batches from {len(sources)} sources are for mode='loss'; "
                                 f'{mode!r} takes one batch')
            losses = {}
            for index, source in enumerate(sources):
                losses.update(self.source_loss(source['inputs'], source['data_samples'], index))
            return losses
        return super().forward(*sources, mode=mode, **batch)

    def clip_logits(self, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits of every image or clip, (N * views, classes), and the views per sample."""
        if inputs.dim() not in (IMAGE, CLIPS, VIEWS):
            raise ValueError(f'RecognizerOmni takes (N, C, H, W) images, (N, C, T, H, W) clips or (N, views, C, T, '
                             f'H, W); got shape {tuple(inputs.shape)}')
        views = inputs.shape[1] if inputs.dim() == VIEWS else 1
        flat = inputs.flatten(0, 1) if inputs.dim() == VIEWS else inputs
        return self.cls_head(self.backbone(flat)[-1]), views

    def deployable(self, example: torch.Tensor) -> RecognizerOmni:
        """The model deployment traces for inputs like ``example``: for images, a copy whose backbone is
        its still-image copy (plain weights; the training-time image path cannot be traced or quantized); for clips,
        the model itself."""
        if example.dim() != IMAGE or not hasattr(self.backbone, 'still_image_copy'):
            return self
        still = copy.copy(self)  # shallow: shares the head; only the backbone is replaced
        still._modules = dict(self._modules, backbone=self.backbone.still_image_copy())
        return still  # deploy_target puts it in eval mode

    def tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        logits, views = self.clip_logits(inputs)
        return logits.view(-1, views, logits.shape[1]).mean(dim=1)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        return self.source_loss(inputs, data_samples, 0)

    def source_loss(self, inputs: torch.Tensor, data_samples, index: int) -> dict[str, torch.Tensor]:
        """Cross-entropy of one source's batch (every view carries its sample's label) and its top-k accuracy."""
        logits, views = self.clip_logits(inputs)
        kind = 'image' if inputs.dim() == IMAGE else 'video'
        labels = gt_labels(data_samples, logits.device, logits.shape[1],
                           f'RecognizerOmni, source {index} ({kind}s)').repeat_interleave(views)
        losses = {f'loss_cls_{index}': F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)}
        return {**losses, **topk_accuracies(logits, labels, self.topk, f'top{{k}}_acc_{index}')}

    multi_label = False  # refused above: OmniHead trains with cross-entropy
    average_scores = ImageClassifier.average_scores  # a sample's views averaged as average_clips says

    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        scores = self.average_scores(*self.clip_logits(inputs))
        return ImageClassifier.scores_to_predictions(scores, data_samples)
