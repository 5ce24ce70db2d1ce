"""mmengine's ``init_cfg`` for our backbones: a 'Pretrained' entry goes through ``load_pretrained``, not mmengine's
key-for-key ``PretrainedInit``, so other libraries' files convert; its keys are all honoured or refused, never
dropped (a silently ignored ``strict=True`` would let a ResNet-101 file half-load into a ResNet-50).

mmengine takes a dict or a list of dicts and applies a list's 'Pretrained' entry last, over the others
(``BaseModule.init_weights``); ``split_init_cfg`` keeps that order.
"""
from __future__ import annotations

from typing import Any

from mmengine.model.weight_init import PretrainedInit, initialize
from torch import nn

from .load import load_pretrained
from .report import LoadReport

# mmengine's PretrainedInit takes checkpoint, prefix, map_location; ours adds source and strict.
PRETRAINED_KEYS = ('type', 'checkpoint', 'prefix', 'map_location', 'source', 'strict')


def _is_pretrained(cfg: dict) -> bool:
    return cfg.get('type') == 'Pretrained' or cfg.get('type') is PretrainedInit


def split_init_cfg(init_cfg: Any) -> tuple[dict | None, list[dict]]:
    """(the 'Pretrained' entry or None, the other entries) of a dict, list or empty ``init_cfg``."""
    cfgs = [] if not init_cfg else [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg)
    if not all(isinstance(cfg, dict) for cfg in cfgs):
        raise TypeError(f'init_cfg must be a dict or a list of dicts; got {init_cfg!r}')
    pretrained = [cfg for cfg in cfgs if _is_pretrained(cfg)]
    if len(pretrained) > 1:
        raise ValueError(f"init_cfg has {len(pretrained)} 'Pretrained' entries; give one checkpoint: {pretrained}")
    return (pretrained[0] if pretrained else None), [cfg for cfg in cfgs if not _is_pretrained(cfg)]


def load_pretrained_cfg(module: nn.Module, cfg: dict) -> LoadReport:
    """Load a 'Pretrained' entry into ``module``; ValueError naming any key we would otherwise ignore.

    ``map_location`` changes nothing: tensors are read onto the CPU and copied onto the module's device."""
    unknown = sorted(set(cfg) - set(PRETRAINED_KEYS))
    if unknown:
        raise ValueError(f"init_cfg 'Pretrained' does not take {', '.join(map(repr, unknown))}; its keys are "
                         f'{PRETRAINED_KEYS[1:]}')
    if 'checkpoint' not in cfg:
        raise ValueError(f"init_cfg 'Pretrained' needs a checkpoint; got {cfg}")
    return load_pretrained(module, cfg['checkpoint'], source=cfg.get('source'), strict=bool(cfg.get('strict')),
                           prefix=cfg.get('prefix'))


def init_with_pretrained(module: nn.Module, pretrained: dict, others: list[dict]) -> LoadReport:
    """The other initialisers of a list ``init_cfg`` first (mmengine's ``initialize``), then the checkpoint over
    them, as mmengine orders a list; the module's children are not re-initialised, as for a 'Pretrained' dict."""
    if others:
        initialize(module, others)
    return load_pretrained_cfg(module, pretrained)
