"""mmaction2's ``TSMOptimWrapperConstructor``: the TSM paper's per-layer learning rates, so TSM configs carry over.

Parameter groups, by module kind (mmaction2's rule, its code rather than its docstring where they differ):
the first conv's weight lr x1 / weight decay x1 and bias lr x2 / no decay; other conv and linear weights x1 / x1 and
their biases lr x2 / no decay; norm layers (BN, SyncBN, GN) lr x1 / no decay; with ``paramwise_cfg=dict(fc_lr5=True)``
the classifier has weight lr x5 / decay x1 and bias lr x10 / no decay. mmaction2 takes the model's last linear
layer, which in its module order (backbone, neck, cls_head) is the head's; here the head's last linear layer is
taken (a TPN neck registered after the head made its auxiliary head's fc the last one), or the layer a head names
as ``fc_lr5_layer`` where mmaction2's own order differs (TRNHead builds its relation module before ``fc_cls``).
"""
from __future__ import annotations

from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from ..registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TSMOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimizer wrapper constructor with TSM's parameter groups; ``paramwise_cfg`` takes only ``fc_lr5`` (bool)."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict | None = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - {'fc_lr5'})
        if unknown or not isinstance(paramwise_cfg.get('fc_lr5', False), bool):
            raise ValueError(f'TSMOptimWrapperConstructor: paramwise_cfg takes only fc_lr5=True/False; got '
                             f'{paramwise_cfg!r}')
        self.fc_lr5 = paramwise_cfg.get('fc_lr5', False)
        # Never empty: mmengine skips add_params (and so TSM's groups) when paramwise_cfg is empty.
        super().__init__(optim_wrapper_cfg, dict(fc_lr5=self.fc_lr5))

    def add_params(self, params: list[dict], module: nn.Module, **kwargs) -> None:
        """Append the seven groups (some may be empty) to ``params``; unknown leaf modules with weights are named."""
        groups = {name: [] for name in ('first_w', 'first_b', 'weight', 'bias', 'norm', 'fc_w', 'fc_b')}
        convs = 0
        linears = []
        for name, m in module.named_modules():
            own = [p for p in m.parameters(recurse=False) if p.requires_grad]
            if isinstance(m, _ConvNd):
                convs += 1
                weight_group, bias_group = ('first_w', 'first_b') if convs == 1 else ('weight', 'bias')
                groups[weight_group].append(m.weight)
                if m.bias is not None:
                    groups[bias_group].append(m.bias)
            elif isinstance(m, nn.Linear):
                linears.append(m)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                groups['norm'].extend(own)
            elif own:
                raise ValueError(f'TSMOptimWrapperConstructor: module {name!r} ({type(m).__name__}) has parameters '
                                 'but no TSM learning-rate rule (only convs, linear layers and norms have one)')
        if not linears:
            raise ValueError('TSMOptimWrapperConstructor: the model has no linear layer (the classifier)')
        classifier = _classifier(module, linears) if self.fc_lr5 else None
        for m in linears:
            boosted = m is classifier
            groups['fc_w' if boosted else 'weight'].append(m.weight)
            if m.bias is not None:
                groups['fc_b' if boosted else 'bias'].append(m.bias)
        lr, wd = self.base_lr, self.base_wd or 0
        rules = dict(first_w=(1, wd), first_b=(2, 0), weight=(1, wd), bias=(2, 0), norm=(1, 0), fc_w=(5, wd),
                     fc_b=(10, 0))
        for name, (lr_mult, decay) in rules.items():
            params.append({'params': [p for p in groups[name] if p.requires_grad], 'lr': lr * lr_mult,
                           'weight_decay': decay})


def _classifier(model: nn.Module, linears: list[nn.Linear]) -> nn.Linear:
    """The linear layer fc_lr5 boosts: the head's ``fc_lr5_layer``, else the head's last linear layer, else the
    model's last one (mmaction2's rule where the head is not an attribute ``head``)."""
    head = getattr(model, 'head', None)
    if isinstance(head, nn.Module):
        named = getattr(head, 'fc_lr5_layer', None)
        if isinstance(named, nn.Linear):
            return named
        in_head = [m for m in head.modules() if isinstance(m, nn.Linear)]
        if in_head:
            return in_head[-1]
    return linears[-1]
