"""2D -> (2+1)D weights: an ImageNet ResNet starts an R(2+1)D so that a still clip gives the 2D network's features.

A 2D conv ``P`` (kernel W, followed by its norm ``N``) becomes the (2+1)D conv ``P`` = spatial conv ``P.0`` -> norm
``P.1`` -> ReLU -> temporal conv ``P.3``, followed by ``N``. The temporal conv starts as the identity (a one at its
centre tap), so time is not mixed until training says so. The ReLU inside is what needs care:

- where ReLU follows ``N`` anyway (the stem, every conv but a block's last), the 2D norm moves inside: ``P.0`` holds
  W, ``P.1`` the 2D norm, ``P.3`` the identity and ``N`` becomes the identity; ReLU(ReLU(y)) = ReLU(y). Needs
  mid >= out.
- a block's last conv feeds the residual sum, signs included: ``P.0`` holds W and -W in channel pairs, ``P.1`` is the
  identity, ``P.3`` takes their difference (ReLU(y) - ReLU(-y) = y) and ``N`` keeps the 2D norm. Needs mid >= 2 out.

Identity norms are exact in eval mode (running variance 1 - eps). torchvision's middle widths are too narrow for the
first block of a stage (1.8 x out) and its stem (45 < 64): use ``mid_channels_from='conv'`` and the stem formula.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..layers.conv2plus1d import Conv2Plus1d

NORM_PARTS = ('weight', 'bias', 'running_mean', 'running_var')


def _norm_of(conv: str) -> str:
    """The norm after conv ``...convK``: ``...bnK`` (the stem's conv1 -> bn1); after a shortcut's ``downsample.K``,
    ``downsample.K+1``."""
    head, _, last = conv.rpartition('.')
    if last.isdigit():
        return f'{head}.{int(last) + 1}'
    return f'{head}.bn{last[4:]}' if head else f'bn{last[4:]}'


def _identity_norm(n: int, eps: float, like: torch.Tensor) -> dict[str, torch.Tensor]:
    return dict(weight=torch.ones(n, dtype=like.dtype), bias=torch.zeros(n, dtype=like.dtype),
                running_mean=torch.zeros(n, dtype=like.dtype), running_var=torch.full((n,), 1 - eps, dtype=like.dtype))


def _last_convs(backbone: nn.Module) -> set[str]:
    """Names of the convs whose norm is a residual block's ``last_norm`` (they feed the residual sum)."""
    last = set()
    for name, block in backbone.named_modules():
        if not isinstance(getattr(type(block), 'last_norm', None), property):
            continue
        for child, module in block.named_children():
            if module is block.last_norm and child.startswith('bn'):
                last.add(f'{name}.conv{child[2:]}')
    return last


def factorise_2d(state: Mapping[str, torch.Tensor], backbone: nn.Module) -> tuple[dict[str, torch.Tensor],
                                                                                  dict[str, str], int]:
    """Replace each 2D conv kernel (and its norm) of ``state`` whose target in ``backbone`` is a Conv2Plus1d.

    Returns the new state, a map new key -> the ``state`` key it came from, and how many convs were factorised.
    Raises ValueError naming the conv when its middle width cannot carry the 2D conv exactly.
    """
    out, source, last, count = dict(state), {k: k for k in state}, _last_convs(backbone), 0
    for name, module in backbone.named_modules():
        weight = state.get(f'{name}.weight')
        if not isinstance(module, Conv2Plus1d) or weight is None or weight.dim() != 4:
            continue
        norm_name = _norm_of(name)
        spatial, temporal = module[0], module[3]
        cout, mid, t = module.out_channels, module.mid_channels, temporal.kernel_size[0]
        keeps_sign = name in last or '.downsample.' in f'{name}.'  # a shortcut conv feeds the residual sum too
        if weight.shape[1] != spatial.weight.shape[1]:  # was blamed on the middle width
            raise ValueError(f'cannot factorise the 2D conv {name}: it reads {weight.shape[1]} input channels, the '
                             f'model\'s (2+1)D conv {spatial.weight.shape[1]}; a (2+1)D stem takes the checkpoint\'s '
                             f'channel count (in_channels={weight.shape[1]})')
        if mid < (2 if keeps_sign else 1) * cout or tuple(weight.shape) != (cout, *spatial.weight.shape[1:2],
                                                                            *spatial.weight.shape[3:]):
            need = '2 x out (it feeds the residual sum)' if keeps_sign else 'out'
            raise ValueError(f'cannot factorise the 2D conv {name} {tuple(weight.shape)} into (2+1)D with middle '
                             f'width {mid} for {cout} outputs: needs a matching kernel and mid >= {need}; use '
                             "mid_channels_from='conv' and the stem formula (stem_mid_channels=None)")
        missing = [f'{norm_name}.{p}' for p in NORM_PARTS if f'{norm_name}.{p}' not in state]
        if missing:  # a GroupNorm or partial checkpoint: a bare KeyError
            raise ValueError(f'cannot factorise the 2D conv {name}: the checkpoint lacks its batch norm {missing} '
                             f'(the factorisation folds that norm into the (2+1)D conv)')
        outer = backbone.get_submodule(norm_name)
        norm2d = {p: state[f'{norm_name}.{p}'] for p in NORM_PARTS}
        w_s, w_t = weight.new_zeros(spatial.weight.shape), weight.new_zeros(temporal.weight.shape)
        inner = _identity_norm(mid, module[1].eps, weight)
        idx = torch.arange(cout)
        if keeps_sign:
            w_s[0:2 * cout:2, :, 0], w_s[1:2 * cout:2, :, 0] = weight, -weight
            w_t[idx, 2 * idx, t // 2], w_t[idx, 2 * idx + 1, t // 2] = 1, -1
            after = norm2d
        else:
            w_s[:cout, :, 0] = weight
            w_t[idx, idx, t // 2] = 1
            for p in NORM_PARTS:
                inner[p][:cout] = norm2d[p]
            inner['weight'][cout:] = 0  # unused middle channels stay at zero
            after = _identity_norm(cout, outer.eps, weight)
        for key in [f'{name}.weight'] + [f'{norm_name}.{p}' for p in NORM_PARTS]:
            del out[key]
        out.update({f'{name}.0.weight': w_s, f'{name}.3.weight': w_t})
        source.update({f'{name}.0.weight': f'{name}.weight', f'{name}.3.weight': f'{name}.weight'})
        for p in NORM_PARTS:
            out[f'{name}.1.{p}'], out[f'{norm_name}.{p}'] = inner[p], after[p]
            source[f'{name}.1.{p}'] = f'{norm_name}.{p}'
        count += 1
    return out, {k: source[k] for k in out}, count
