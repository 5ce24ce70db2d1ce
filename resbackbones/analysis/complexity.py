"""Parameter and multiply-add counts, the two numbers papers and model zoos quote for a network.

Multiply-adds come from ``torch.utils.flop_counter.FlopCounterMode``, which counts convolutions and matrix products
(2 FLOPs per multiply-add) and ignores norms, activations and pools, as torchvision's model table does; we report
FLOPs / 2, the unit of the ResNet paper's "FLOPs" and of torchvision's "GFLOPS" column. Deformable convs
(torchvision.ops) count as the convolution they compute (FlopCounterMode has no formula for them and counted 0);
their offset sampling and modulation, like norms, are not counted.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def _deform_conv_flops(input_shape, weight_shape, *args, out_shape, **kwargs) -> int:
    """torchvision::deform_conv2d: 2 FLOPs per multiply-add of the convolution it computes."""
    out_channels, in_per_group, kernel_h, kernel_w = weight_shape
    batch, _, out_h, out_w = out_shape
    return 2 * batch * out_channels * out_h * out_w * in_per_group * kernel_h * kernel_w


def _custom_formulas() -> dict:
    import torchvision  # noqa: F401  (registers torch.ops.torchvision)
    return {torch.ops.torchvision.deform_conv2d: _deform_conv_flops}  # keyed by overload packet, as aten ops


def count_params(model: nn.Module) -> int:
    """Number of parameters (each shared tensor once), trainable or not."""
    return sum(p.numel() for p in model.parameters())


def _check_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if not shape or len(shape) < 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                              for s in shape):
        raise ValueError('input_shape must be the positive integer sizes of one sample without the batch, '
                         f'e.g. (3, 224, 224) as (C, H, W) or (C, T, H, W) for video; got {input_shape!r}')
    return shape


def count_gmacs(model: nn.Module, input_shape: Sequence[int], batch: int = 1) -> float:
    """Multiply-adds (in 1e9) of one forward pass on a batch of ``batch`` ``input_shape`` = (C, H, W) samples
    (frame backbones such as TSM's take a whole clip of ``num_segments`` frames).

    Runs in eval mode under ``torch.no_grad`` and restores every submodule's mode afterwards. The input is made on the
    model's device, so a model built under ``torch.device('meta')`` is counted without allocating or computing.
    """
    shape = _check_shape(input_shape)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f'batch must be an integer >= 1; got {batch!r}')
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=_custom_formulas()) as counter:
            model(torch.zeros((batch, *shape), device=device))
    finally:
        for module, training in modes:
            module.training = training
    return counter.get_total_flops() / 2e9
