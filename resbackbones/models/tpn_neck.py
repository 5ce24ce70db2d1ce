"""A TPN neck inside a recognizer, as mmaction2's recognizers use it: built over the backbone's outputs, run on their
5D levels, and its auxiliary head's weighted cross-entropy added to the loss as ``loss_aux``."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..necks.tpn import TPN
from .labels import gt_labels


def build_tpn(owner: str, cfg: dict | None, backbone: nn.Module, multi_label: bool) -> TPN | None:
    """``cfg`` (mmaction2's ``neck=dict(type='TPN', ...)``) as a TPN whose ``in_channels`` are the backbone's
    outputs' (filled in when left out, refused when they differ); None for no neck."""
    if cfg is None:
        return None
    if not isinstance(cfg, dict) or cfg.get('type') != 'TPN':
        raise ValueError(f"{owner}: neck must be mmaction2's dict(type='TPN', ...), the one neck built here; "
                         f'got {cfg!r}')
    if cfg.get('aux_head_cfg') is not None and multi_label:
        raise ValueError(f'{owner}: a TPN aux_head_cfg needs single-label data (its loss is a cross-entropy); '
                         'multi_class=True was given')
    outputs = tuple(spec.channels for spec in backbone.feature_specs)
    args = {'in_channels': outputs, **{k: v for k, v in cfg.items() if k != 'type'}}
    if tuple(args['in_channels']) != outputs or len(outputs) < 2:
        raise ValueError(f"{owner}: neck in_channels={args['in_channels']!r} must be the channels of the backbone's "
                         f'outputs {outputs} (at least two: set the backbone\'s out_indices, e.g. (2, 3))')
    neck = TPN(**args)
    _check_alignment(owner, backbone.feature_specs, neck)
    return neck


def _check_alignment(owner: str, specs, neck: TPN) -> None:
    """The levels meet at one size: TPN adds them after its spatial modulation (stride-2 convs, one per doubling of
    channels) and its temporal pools, so a level that arrives at another stride would fail inside the neck."""
    reached = []
    for spec, ops, temporal in zip(specs, neck.spatial_modulation.spatial_modulation, neck.temporal_modulation_ops):
        steps = len(ops) if isinstance(ops, nn.ModuleList) else 0
        reached.append((spec.name, spec.stride * 2**steps, spec.temporal_stride * temporal.pool.kernel_size[0]))
    if len({(s, t) for _, s, t in reached}) > 1:
        shown = ', '.join(f'{name}: /{s} in space, /{t} in time' for name, s, t in reached)
        raise ValueError(f'{owner}: the TPN levels would meet at different sizes ({shown}); the spatial modulation '
                         'halves the size once per doubling of channels up to the top level and the temporal '
                         'modulation pools by downsample_scales, so use undilated stages (strides 2) and equal '
                         'temporal reductions')


def tpn_losses(logits: torch.Tensor, neck: TPN, levels: Sequence[torch.Tensor], data_samples, clips: int,
               label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
    """Cross-entropy of ``logits`` (every clip carrying its video's label) and, with an auxiliary head, ``loss_aux``:
    its ``loss_weight`` times its cross-entropy on the second-to-last level."""
    labels = gt_labels(data_samples, logits.device, logits.shape[1]).repeat_interleave(clips)
    losses = {'loss': F.cross_entropy(logits, labels, label_smoothing=label_smoothing)}
    if neck.aux_head is not None:
        losses['loss_aux'] = neck.aux_head.loss_weight * F.cross_entropy(neck.aux_head(levels[-2]), labels)
    return losses
