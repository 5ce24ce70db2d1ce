"""A per-stage summary of a backbone: what trains, how its norms behave, what each stage outputs."""
from __future__ import annotations

from torch import nn

from ..layers import is_batch_norm
from ..layers.norm import FrozenBatchNorm


def _norm_mode(module: nn.Module) -> str:
    """'train' (batch statistics; 'train-fixed' without trainable scale and shift), 'eval' (running
    statistics, affine trainable), 'frozen' (running statistics and nothing trains), 'group', or 'none'. A batch norm
    in training mode uses and updates batch statistics whatever its parameters: it is never 'frozen'."""
    norms = [m for m in module.modules() if is_batch_norm(m) or isinstance(m, nn.GroupNorm)]
    if not norms:
        return 'none'
    modes = set()
    for m in norms:
        trainable = any(p.requires_grad for p in m.parameters(recurse=False))
        if isinstance(m, FrozenBatchNorm):
            modes.add('frozen')
        elif isinstance(m, nn.GroupNorm):
            modes.add('group' if trainable else 'frozen')
        elif m.training:
            modes.add('train' if trainable else 'train-fixed')
        else:
            modes.add('eval' if trainable else 'frozen')
    return '/'.join(sorted(modes))


def describe_backbone(backbone) -> str:
    """Text table with one row per stem/stage: trainable and total params, norm mode, out channels, stride.

    Shows the state right now, so call it after ``train()``/``eval()`` to see what norm_eval and frozen_stages do.
    """
    rows = [('part', 'trainable', 'params', 'norm', 'out_ch', 'stride')]
    parts = [nn.ModuleList(backbone.stem_modules)] + backbone.stages()
    for spec, part in zip(backbone.all_specs(), parts):
        params = list(part.parameters())
        rows.append((spec.name, f'{sum(p.numel() for p in params if p.requires_grad):,}',
                     f'{sum(p.numel() for p in params):,}', _norm_mode(part), str(spec.channels), str(spec.stride)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    outputs = ', '.join(f'{s.name}(C={s.channels}, /{s.stride}' + (f', T/{s.temporal_stride}' if s.temporal_stride > 1
                                                                   else '') + ')' for s in backbone.feature_specs)
    return '\n'.join([f'{type(backbone).__name__}-{backbone.depth}', *lines, f'outputs: {outputs}'])
