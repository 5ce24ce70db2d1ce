"""mmaction2's ``MMRecognizer3D``: a recognizer over several inputs per sample, PoseC3D's frames and pose heatmaps.

The batch is a dict, one entry per modality (``imgs``, ``heatmap_imgs``), each (N, views, C, T, H, W) from
``PackActionInputs(collect_keys=...)``; the backbone (``RGBPoseConv3D``) takes them by name and ``RGBPoseHead``
classifies each stream. Training sums each stream's weighted cross-entropy; testing scores each stream, averaged
over a sample's views, and ``AccMetric`` adds their weighted sums.
"""
from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import nn

from ..heads.rgbpose_head import STREAMS, RGBPoseHead
from ..registry import MODELS
from .base import TaskModel
from .labels import gt_labels, with_labels
from .mmaction_head_args import base_head_args, in_chunks, max_testing_views, split_cls_head, topk_accuracies


def _components(components, weights) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """mmaction2's ``loss_components`` (streams trained and scored) and ``loss_weights`` (a float or one each)."""
    components = tuple(components)
    if not components or len(set(components)) != len(components) or not set(components) <= set(STREAMS):
        raise ValueError(f'MMRecognizer3D: cls_head.loss_components must be distinct names among {STREAMS}; got '
                         f'{components!r}')
    weights = (weights,) * len(components) if isinstance(weights, (int, float)) else tuple(weights)
    if len(weights) != len(components) or not all(isinstance(w, (int, float)) for w in weights):
        raise ValueError(f'MMRecognizer3D: cls_head.loss_weights must be a number or one per loss component '
                         f'{components}; got {weights!r}')
    return components, tuple(float(w) for w in weights)


@MODELS.register_module()
class MMRecognizer3D(TaskModel):
    """Several modalities through one two-input backbone and ``RGBPoseHead``.

    Args:
        backbone: a config (or module) whose forward takes the modalities by name (RGBPoseConv3D) and declares one
            feature spec per stream.
        cls_head: mmaction2's ``dict(type='RGBPoseHead', num_classes, in_channels, loss_cls, loss_components,
            loss_weights, dropout, init_std, average_clips, label_smooth_eps, topk)``; in_channels may be left out
            (the backbone's specs give them); only the cross-entropy loss.
        data_preprocessor: ``MultiModalDataPreprocessor`` (one ActionDataPreprocessor per modality).
        train_cfg / test_cfg: mmaction2's; test_cfg may hold ``max_testing_views`` (views through the network that
            many at a time in eval mode: same scores, bounded memory).

    'loss' gives ``{stream}_loss_cls`` (weighted) and ``{stream}_top{k}_acc`` (logged, not optimised) per loss
    component; 'predict' one dict per sample whose 'pred_score' is dict(stream=scores averaged over its views as
    ``average_clips`` says); 'tensor' the streams' logits averaged over views.
    """

    def __init__(self, backbone: dict | nn.Module, cls_head: dict, data_preprocessor: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None, init_cfg: dict | None = None):
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.max_testing_views = max_testing_views('MMRecognizer3D', train_cfg, test_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        if not isinstance(cls_head, dict) or cls_head.get('type') != 'RGBPoseHead':
            raise ValueError(f"MMRecognizer3D: cls_head must be dict(type='RGBPoseHead', num_classes=..., ...) "
                             f'(mmaction2); got {cls_head!r}')
        channels = [spec.channels for spec in self.backbone.feature_specs]
        args, self.average_clips, multi_label = split_cls_head('MMRecognizer3D', dict(
            cls_head, in_channels=list(cls_head.get('in_channels', channels))), channels)
        if multi_label:
            raise ValueError('MMRecognizer3D: multi_class is not supported (RGBPoseHead trains with cross-entropy)')
        args.pop('type')
        self.components, self.loss_weights = _components(args.pop('loss_components', STREAMS),
                                                         args.pop('loss_weights', 1.))
        self.label_smoothing, self.topk = base_head_args('MMRecognizer3D', args)
        try:
            self.cls_head = RGBPoseHead(**args)
        except TypeError as err:
            raise ValueError(f'MMRecognizer3D: cls_head: {err}') from err

    def views_logits(self, inputs: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
        """Each stream's logits for every view, (N * views, classes), and the views per sample."""
        if not isinstance(inputs, dict) or not inputs:
            raise ValueError('MMRecognizer3D takes a dict of modality batches (PackActionInputs(collect_keys=...)); '
                             f'got {type(inputs).__name__}')
        wanted = [n for n in inspect.signature(self.backbone.forward).parameters if n != 'self']
        if sorted(inputs) != sorted(wanted):
            raise ValueError(f'MMRecognizer3D: {type(self.backbone).__name__} takes the modalities {wanted}; the batch '
                             f'has {sorted(inputs)} (PackActionInputs collect_keys must name them)')
        bad = {name: tuple(x.shape) for name, x in inputs.items() if x.dim() not in (5, 6)}
        if bad:
            raise ValueError(f'MMRecognizer3D takes (N, C, T, H, W) or (N, views, C, T, H, W) per modality; got {bad}')
        leading = {name: tuple(x.shape[:2]) if x.dim() == 6 else (x.shape[0], 1) for name, x in inputs.items()}
        if len(set(leading.values())) > 1:
            raise ValueError(f'MMRecognizer3D: the modalities differ in (samples, views): {leading}')
        samples, views = next(iter(leading.values()))
        flats = {name: (x.flatten(0, 1) if x.dim() == 6 else x) for name, x in inputs.items()}

        def run(rows: torch.Tensor) -> torch.Tensor:  # (rows, streams, classes) for a contiguous run of rows
            part = slice(int(rows[0]), int(rows[-1]) + 1)
            logits = self.cls_head(self.backbone(**{name: x[part] for name, x in flats.items()}))
            return torch.stack([logits[s] for s in STREAMS], dim=1)

        chunk = None if self.training else self.max_testing_views
        stacked = in_chunks(run, torch.arange(samples * views), chunk)
        return {s: stacked[:, i] for i, s in enumerate(STREAMS)}, views

    def tensor(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits, views = self.views_logits(inputs)
        return {name: x.view(-1, views, x.shape[1]).mean(dim=1) for name, x in logits.items()}

    def loss(self, inputs: dict[str, torch.Tensor], data_samples) -> dict[str, torch.Tensor]:
        """Per loss component, its weighted cross-entropy (every view carries its sample's label) and top-k accuracy."""
        logits, views = self.views_logits(inputs)
        classes = self.cls_head.fc_rgb.out_features
        labels = gt_labels(data_samples, next(iter(logits.values())).device, classes,
                           'MMRecognizer3D').repeat_interleave(views)
        losses = {}
        for name, weight in zip(self.components, self.loss_weights):
            losses[f'{name}_loss_cls'] = weight * F.cross_entropy(logits[name], labels,
                                                                  label_smoothing=self.label_smoothing)
            losses.update(topk_accuracies(logits[name], labels, self.topk, f'{name}_top{{k}}_acc'))
        return losses

    def predict(self, inputs: dict[str, torch.Tensor], data_samples=None) -> list[dict]:
        """One dict per sample: 'pred_score' = dict(stream=scores) for each loss component, averaged over views."""
        logits, views = self.views_logits(inputs)
        scores = {}
        for name in self.components:
            per_view = logits[name].softmax(dim=1) if self.average_clips == 'prob' else logits[name]
            scores[name] = per_view.view(-1, views, per_view.shape[1]).mean(dim=1).detach()
        count = next(iter(scores.values())).shape[0]
        preds = [{'pred_score': {name: s[i] for name, s in scores.items()}} for i in range(count)]
        return with_labels(preds, data_samples, next(iter(scores.values())).device)
