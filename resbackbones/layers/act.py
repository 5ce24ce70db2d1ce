"""Activations from mmcv-style ``act_cfg`` dicts; a module's attribute name comes from its type (relu, prelu)."""
from __future__ import annotations

from torch import nn

ACT_TYPES = ('ReLU', 'PReLU', 'LeakyReLU', 'SiLU', 'GELU')


def build_activation(cfg: dict | None, channels: int) -> nn.Module:
    """``dict(type='ReLU')`` (in place, the default), ``'PReLU'`` (one slope per channel, as insightface) or another
    of ACT_TYPES with its keyword arguments."""
    cfg = dict(cfg or {'type': 'ReLU'})
    act_type = cfg.pop('type', None)
    if act_type not in ACT_TYPES:
        raise ValueError(f'act_cfg type must be one of {list(ACT_TYPES)}; got {act_type!r}')
    if act_type == 'PReLU':
        return nn.PReLU(cfg.pop('num_parameters', channels), **cfg)
    if act_type in ('ReLU', 'LeakyReLU', 'SiLU'):
        cfg.setdefault('inplace', True)
    return getattr(nn, act_type)(**cfg)


def activation_name(cfg: dict | None) -> str:
    """The attribute name of an activation module: its type lower-cased ('relu', 'prelu'), as torchvision and
    insightface name them, so checkpoints that hold a PReLU's slopes load by key."""
    act_type = (cfg or {'type': 'ReLU'}).get('type')
    if act_type not in ACT_TYPES:  # a cfg without 'type' was a bare KeyError here
        raise ValueError(f'act_cfg type must be one of {list(ACT_TYPES)}; got {act_type!r}')
    return act_type.lower()
