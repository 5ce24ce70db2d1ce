"""Normalisation layers built from mmdet-style ``norm_cfg`` dicts, for 1D, 2D and 3D tensors."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

NORM_TYPES = ('BN', 'BN1d', 'BN2d', 'BN3d', 'SyncBN', 'GN', 'FrozenBN')
_BATCH_NORMS = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


class FrozenBatchNorm(nn.Module):
    """BatchNorm with fixed statistics and affine parameters, for any number of spatial dims.

    Stores weight/bias/running_mean/running_var as buffers (torchvision's names), so BN checkpoints load into it and
    no optimizer or weight decay ever touches them. Detection fine-tuning uses it because per-GPU batches are too
    small for reliable batch statistics.
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.register_buffer('weight', torch.ones(num_features))
        self.register_buffer('bias', torch.zeros(num_features))
        self.register_buffer('running_mean', torch.zeros(num_features))
        self.register_buffer('running_var', torch.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # BatchNorm checkpoints carry a step counter that a frozen norm has no use for.
        state_dict.pop(prefix + 'num_batches_tracked', None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        view = (1, -1) + (1,) * (x.dim() - 2)
        return x * scale.view(view).to(x.dtype) + shift.view(view).to(x.dtype)

    def extra_repr(self) -> str:
        return f'{self.num_features}, eps={self.eps}'


def build_norm_layer(cfg: dict, num_features: int, dims: int = 2) -> nn.Module:
    """Build a norm layer from ``cfg`` such as ``dict(type='BN', requires_grad=True)``.

    Args:
        cfg: ``type`` in NORM_TYPES; ``requires_grad`` (default True) freezes the affine parameters when False;
            ``num_groups`` for GN; other keys (eps, momentum) go to the layer.
        num_features: channels C of the (N, C, ...) input.
        dims: spatial dims of the input (1, 2 or 3); chooses BatchNorm1d/2d/3d.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f"norm_cfg must be a dict with a 'type' key, one of {NORM_TYPES}; got {cfg!r}")
    cfg = dict(cfg)
    norm_type = cfg.pop('type')
    requires_grad = cfg.pop('requires_grad', True)
    if norm_type in ('BN1d', 'BN2d', 'BN3d'):  # mmcv/mmaction2 spellings; 'BN' follows the input's dims
        if int(norm_type[2]) != dims:
            raise ValueError(f'norm_cfg type {norm_type!r} is for {norm_type[2]}D inputs, but this layer gets '
                             f"{dims}D ones; use type='BN', which follows the input")
        norm_type = 'BN'
    if norm_type == 'BN':
        layer = _BATCH_NORMS[dims](num_features, **cfg)
    elif norm_type == 'SyncBN':
        layer = nn.SyncBatchNorm(num_features, **cfg)
    elif norm_type == 'GN':
        if 'num_groups' not in cfg:
            raise ValueError("norm_cfg of type 'GN' needs 'num_groups'")
        groups = cfg['num_groups']
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"norm_cfg num_groups must be an integer >= 1; got {groups!r}")
        if num_features % groups:
            raise ValueError(f"norm_cfg num_groups={cfg['num_groups']} must divide the {num_features} channels")
        layer = nn.GroupNorm(num_channels=num_features, **cfg)
    elif norm_type == 'FrozenBN':
        return FrozenBatchNorm(num_features, **cfg)
    else:
        raise ValueError(f'norm_cfg type must be one of {NORM_TYPES}; got {norm_type!r}')
    for param in layer.parameters():
        param.requires_grad_(requires_grad)
    return layer


def is_batch_norm(module: nn.Module) -> bool:
    """True for norms that keep running statistics (the ones ``norm_eval`` and freezing put in eval mode)."""
    return isinstance(module, (nn.modules.batchnorm._BatchNorm, FrozenBatchNorm))


@contextlib.contextmanager
def running_stats_kept(module: nn.Module) -> Iterator[None]:
    """Within the block, ``module``'s batch norms run as before (the same operations, which gradient checkpointing
    checks) and their running statistics are put back afterwards: checkpointing's second forward in backward
    would otherwise count every training batch twice."""
    buffers = [b for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training
               for b in (m.running_mean, m.running_var, m.num_batches_tracked) if b is not None]
    saved = [b.clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in zip(buffers, saved):
                buffer.copy_(value)
