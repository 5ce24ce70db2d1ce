"""Conv + BatchNorm folding for inference: each BN that directly follows a convolution is merged into its weights.

In eval mode a BN is the affine map ``y = (x - mean) / sqrt(var + eps) * gamma + beta``, so ``bn(conv(x))`` equals a
convolution with weight ``W * s`` and bias ``(b - mean) * s + beta`` (``s = gamma / sqrt(var + eps)`` per output
channel). The pairs are found by running one forward with hooks: a BN whose input is the very tensor a Conv just
returned is folded into that Conv and replaced by ``nn.Identity``. Training-mode BNs (batch statistics) cannot be
folded, so the model must be in eval mode.
"""
from __future__ import annotations

import weakref
from typing import Callable

import torch
from torch import nn

from ..layers.norm import FrozenBatchNorm

CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
# every norm with running statistics: SyncBN and mmengine's CPU stand-in for it are no BatchNorm2d (left unfolded)
NORMS = (nn.modules.batchnorm._BatchNorm, FrozenBatchNorm)


def find_conv_bn_pairs(model: nn.Module, run: Callable[[nn.Module], object]) -> list[tuple[str, str]]:
    """(conv name, bn name) pairs where the BN consumed the Conv's output tensor during ``run(model)``.

    A conv whose output also feeds other consumers would change them too when folded; ResNet-family models never
    do that, and ``fold_conv_bn`` checks the outputs before and after anyway.
    """
    names = {module: name for name, module in model.named_modules()}
    # id() alone is not enough: once a conv's output is freed, a later tensor may get its id. A weak reference
    # tells whether the very tensor is still the one met, and its version counter whether an in-place op (e.g. a
    # ReLU with inplace=True) changed it between the conv and the BN.
    produced: dict[int, tuple[str, weakref.ref, int]] = {}
    pairs: dict[str, str] = {}
    handles = []

    def after_conv(module, _inputs, output):
        produced[id(output)] = (names[module], weakref.ref(output), output._version)

    def before_norm(module, inputs):
        conv, tensor, version = produced.get(id(inputs[0]), (None, lambda: None, None))
        if conv is None or tensor() is not inputs[0] or inputs[0]._version != version:
            return
        if pairs.setdefault(names[module], conv) != conv:
            raise ValueError(f'fold_conv_bn: {names[module]} follows two different convolutions; cannot fold')

    for module in names:
        if isinstance(module, CONVS):
            handles.append(module.register_forward_hook(after_conv))
        elif isinstance(module, NORMS):
            handles.append(module.register_forward_pre_hook(before_norm))
    try:
        with torch.no_grad():
            run(model)
    finally:
        for handle in handles:
            handle.remove()
    convs = list(pairs.values())
    shared = sorted({c for c in convs if convs.count(c) > 1})
    if shared:
        raise ValueError(f'fold_conv_bn: convolution(s) {shared} feed more than one BN; cannot fold')
    return [(conv, bn) for bn, conv in pairs.items()]


@torch.no_grad()
def fold_pair(conv: nn.Module, bn: nn.Module) -> None:
    """Merge eval-mode ``bn`` into ``conv`` in place (conv gains a bias when it had none)."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f'fold_conv_bn: {type(bn).__name__} tracks no running statistics; cannot fold')
    scale = (bn.running_var + bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    view = (-1,) + (1,) * (conv.weight.dim() - 1)
    conv.weight.copy_(conv.weight * scale.view(view).to(conv.weight.dtype))
    bias = shift if conv.bias is None else conv.bias * scale + shift
    conv.bias = nn.Parameter(bias.to(conv.weight.dtype))


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition('.')
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def fold_conv_bn(model: nn.Module, example: torch.Tensor, forward: Callable[[nn.Module, torch.Tensor], object]
                 | None = None, atol: float = 1e-5) -> list[tuple[str, str]]:
    """Fold every Conv -> BN pair of eval-mode ``model`` in place; returns the folded (conv, bn) names.

    Args:
        model: the module to fold; must be in eval mode (a training BN normalises with batch statistics).
        example: an input used once to find the pairs and to check the folded outputs.
        forward: how to run the model on ``example`` (default ``model(example)``).
        atol: largest |difference| allowed between outputs before and after, relative to the output scale;
            ValueError otherwise (and the model is left folded: rebuild it).
    """
    bad = [n for n, m in model.named_modules() if isinstance(m, NORMS) and m.training]
    if bad:
        raise ValueError(f'fold_conv_bn: {bad[0]} is in training mode; call model.eval() before folding')
    run = (lambda m: forward(m, example)) if forward is not None else (lambda m: m(example))
    with torch.no_grad():
        before = _flat(run(model))
    pairs = find_conv_bn_pairs(model, run)
    for conv, bn in pairs:
        fold_pair(model.get_submodule(conv), model.get_submodule(bn))
        _replace(model, bn, nn.Identity())
    with torch.no_grad():
        after = _flat(run(model))
    for i, (a, b) in enumerate(zip(before, after)):
        err = (a.double() - b.double()).abs().max().item() / max(1.0, a.abs().max().item())
        if err > atol:
            raise ValueError(f'fold_conv_bn: output {i} changed by {err:.2e} (> {atol}) after folding')
    return pairs


def _flat(out) -> list[torch.Tensor]:
    """The tensors of a model output (a tensor, or a nested tuple/list/dict of tensors), in a fixed order."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for key in sorted(out) for t in _flat(out[key])]
    if isinstance(out, (list, tuple)):
        return [t for item in out for t in _flat(item)]
    return []
