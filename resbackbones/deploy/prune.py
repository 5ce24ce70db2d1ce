"""Structured channel pruning of the residual blocks' inner widths, into a model built from its own config.

Each block's inner channels (those ``ResidualBlock.inner_layers`` names: a bottleneck's conv1 and conv2 outputs,
a basic block's conv1 output) are ranked by the absolute scale of the batch norm that follows them (``'bn'``,
network slimming, Liu et al. 2017) or by the L1 norm of their conv filters (``'l1'``, Li et al. 2017); the top
``1 - ratio`` of each block are kept. The pruned widths are data (the backbone's ``block_widths``), so the pruned
model is built from the same config with that one key added, and the kept slices of the weights load into it
strictly. Block outputs keep their channels: feature specs, necks and heads do not change.
"""
from __future__ import annotations

import copy
import math
from collections import defaultdict

import torch
from torch import nn

from ..backbones import ResNet
from ..layers import is_batch_norm
from ..registry import MODELS

CRITERIA = ('bn', 'l1')
_PLAIN_CONVS = (nn.Conv2d, nn.Conv3d)


def kept_width(width: int, ratio: float, divisor: int = 1) -> int:
    """Channels kept of ``width`` when pruning ``ratio`` of them: the nearest multiple of ``divisor`` that fits the
    layer (rounding past ``width`` rounds down instead), at least ``divisor``; a layer narrower than ``divisor`` stays
    whole (no multiple fits)."""
    if width < divisor:
        return width
    keep = divisor * math.floor(width * (1 - ratio) / divisor + 0.5)  # one rounding: twice went past the nearest
    if keep > width:  # was clipped to ``width`` itself, no multiple of the divisor (8 of 8 with divisor 3)
        keep -= divisor
    return max(keep, divisor)


def _check_layer(block: nn.Module, prefix: str, producer: str, per_channel: tuple[str, ...], consumer: str) -> None:
    for name in (producer, consumer):
        conv = getattr(block, name)
        if type(conv) not in _PLAIN_CONVS:
            raise ValueError(f'cannot prune {prefix}.{name}: a {type(conv).__name__}; only plain Conv2d/Conv3d '
                             f'layers are pruned (not deformable or (2+1)D convs)')
        if conv.groups != 1:
            raise ValueError(f'cannot prune {prefix}.{name}: grouped conv (groups={conv.groups}, ResNeXt or '
                             f'channel-separated); its channels would have to be removed in whole groups')
    for name in per_channel:
        module = getattr(block, name)
        if not (is_batch_norm(module) or isinstance(module, nn.PReLU)):
            raise ValueError(f'cannot prune {prefix}.{name}: a {type(module).__name__}; per-channel modules must '
                             f'be batch norms or PReLUs (a group norm would change its grouping)')


def channel_scores(block: nn.Module, criterion: str, prefix: str = 'block') -> list[torch.Tensor]:
    """Per inner layer of ``block``, one importance score per channel (higher = kept first).

    'bn': |gamma| of the first per-channel module, which must be an affine batch norm; 'l1': the L1 norm of each
    output filter of the producing conv. ``prefix`` names the block in error messages.
    """
    if criterion not in CRITERIA:
        raise ValueError(f'criterion must be one of {list(CRITERIA)}; got {criterion!r}')
    scores = []
    for producer, per_channel, consumer in type(block).inner_layers:
        _check_layer(block, prefix, producer, per_channel, consumer)
        if criterion == 'l1':
            scores.append(getattr(block, producer).weight.detach().abs().flatten(1).sum(1))
            continue
        norm = getattr(block, per_channel[0])
        if not is_batch_norm(norm) or getattr(norm, 'weight', None) is None:
            raise ValueError(f"criterion 'bn' needs an affine batch norm after {prefix}.{producer}; "
                             f"{prefix}.{per_channel[0]} is a {type(norm).__name__}: use criterion='l1'")
        scores.append(norm.weight.detach().abs().flatten())
    return scores


def _slices(model: nn.Module, backbone: ResNet, ratio: float, criterion: str, divisor: int
            ) -> tuple[list[list[int]], dict[str, list[tuple[int, torch.Tensor]]]]:
    """The pruned block widths, and per state-dict key the (dim, kept indices) selections to apply in order."""
    names = {module: name for name, module in model.named_modules()}
    widths, slices = [], defaultdict(list)
    for stage in backbone.stages():
        widths.append([])
        for block in stage:
            prefix = names[block]
            layers = type(block).inner_layers
            if not layers:
                raise ValueError(f'cannot prune {prefix}: {type(block).__name__} names no inner_layers')
            if block.addon_names['inner']:
                raise ValueError(f"cannot prune {prefix}: its inner addon {block.addon_names['inner']} (TANet's TAM) "
                                 'is built for the inner channels pruning would remove')
            keep = kept_width(getattr(block, layers[0][0]).out_channels, ratio, divisor)
            for (producer, per_channel, consumer), score in zip(layers, channel_scores(block, criterion, prefix)):
                kept = torch.argsort(score, descending=True, stable=True)[:keep].sort().values
                slices[f'{prefix}.{producer}.weight'].append((0, kept))
                if getattr(block, producer).bias is not None:
                    slices[f'{prefix}.{producer}.bias'].append((0, kept))
                for name in per_channel:
                    for key, value in getattr(block, name).state_dict().items():
                        if value.ndim:  # not BN's num_batches_tracked
                            slices[f'{prefix}.{name}.{key}'].append((0, kept))
                slices[f'{prefix}.{consumer}.weight'].append((1, kept))
            widths[-1].append(keep)
    return widths, slices


def prune_model(model: nn.Module, model_cfg: dict, ratio: float, criterion: str = 'bn', divisor: int = 1
                ) -> tuple[nn.Module, dict]:
    """Prune ``ratio`` of every block's inner channels of ``model``; returns (pruned model, its backbone config).

    Args:
        model: a ResNet backbone, or a task model whose ``backbone`` is one (classifier, U-Net, detector ...).
        model_cfg: the config ``model`` was built from (``cfg.model``); the pruned model is built from a copy
            whose backbone has ``block_widths`` set and no pretrained init (those weights have the old widths).
        ratio: fraction of each block's inner width removed, in [0, 1); 0 keeps every channel, except that a
            ``divisor`` still rounds a width down to its multiple (8 -> 6 with divisor 3).
        criterion: 'bn' (|BN scale|) or 'l1' (conv filter L1 norm). divisor: kept widths are multiples of it.
    The pruned model is in ``model``'s training mode; its weights are ``model``'s kept slices, loaded strictly.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ValueError(f'ratio must be a number in [0, 1); got {ratio!r}')
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f'divisor must be an integer >= 1; got {divisor!r}')
    backbone = getattr(model, 'backbone', model)
    if not isinstance(backbone, ResNet):
        raise ValueError(f'prune_model needs a ResNet backbone (model or model.backbone); got '
                         f'{type(backbone).__name__}')
    widths, slices = _slices(model, backbone, ratio, criterion, divisor)
    new_cfg = copy.deepcopy(dict(model_cfg))
    part = new_cfg if backbone is model else new_cfg.get('backbone')
    if not isinstance(part, dict):
        raise ValueError(f"model_cfg has no 'backbone' dict for {type(model).__name__}.backbone; got {part!r}")
    part = dict(part, block_widths=widths, init_cfg=None)
    part.pop('pretrained', None)
    if backbone is model:
        new_cfg = part
    else:
        new_cfg['backbone'] = part
    pruned = MODELS.build(new_cfg)
    state = model.state_dict()
    for key, selections in slices.items():
        for dim, kept in selections:
            state[key] = state[key].index_select(dim, kept.to(state[key].device))
    pruned.load_state_dict(state, strict=True)
    return pruned.train(model.training), part
