"""Optimizer steps on channels_last parameters in the order they lie in memory, so that nothing is copied.

torch's fused optimizers (``AdamW(fused=True)``, the CPU training switch's) work on contiguous tensors: handed a
channels_last weight they copy it, its gradient and its moments to NCHW order and back again, every step (a few
percent of the bf16 Mask R-CNN's step, docs/deploy.md); and torch 2.14's fused CPU AdamW mis-steps a channels_last
weight whose moments are NCHW (resuming from a checkpoint of NCHW weights). The same memory read as (N, H, W, C) is
contiguous, and an optimizer's update is elementwise, so stepping on that view changes the same numbers in place
with no copy. :func:`step_in_storage_order` does this around every ``optimizer.step()``, through the optimizer's
own step hooks; outside the step, parameters and optimizer state keep their NCHW shape (checkpoints unchanged).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.optim import Optimizer

# memory format -> (rank, permutation to its storage order, the inverse)
STORAGE_ORDERS = {torch.channels_last: (4, (0, 2, 3, 1), (0, 3, 1, 2)),
                  torch.channels_last_3d: (5, (0, 2, 3, 4, 1), (0, 4, 1, 2, 3))}
_HANDLES = '_storage_order_step_handles'


def storage_format(tensor: torch.Tensor) -> torch.memory_format | None:
    """The channels-last format ``tensor`` is stored in, None where it is contiguous already (or neither)."""
    for memory_format, (rank, _, _) in STORAGE_ORDERS.items():
        if tensor.dim() == rank and not tensor.is_contiguous() and tensor.is_contiguous(memory_format=memory_format):
            return memory_format
    return None


def _permute(param: torch.Tensor, state: dict[str, Any], order: tuple[int, ...], shape: torch.Size,
             memory_format: torch.memory_format | None) -> None:
    """Permute ``param``, its gradient and every state tensor of ``shape`` by ``order`` (views, no copies). With
    ``memory_format`` (the way in), a gradient or state tensor not yet in it, e.g. moments loaded from an NCHW
    checkpoint, is converted first, so the step never meets mixed layouts."""
    def aligned(tensor: torch.Tensor) -> torch.Tensor:
        return tensor if memory_format is None else tensor.contiguous(memory_format=memory_format)

    grad = param.grad
    param.data = param.data.permute(order)  # before the gradient: .grad must match the parameter's shape
    if grad is not None:
        param.grad = aligned(grad).permute(order)
    for key, value in state.items():
        if torch.is_tensor(value) and value.shape == shape:
            state[key] = aligned(value).permute(order)


def step_in_storage_order(optimizer: Optimizer) -> Optimizer:
    """Make every ``optimizer.step()`` see its channels_last parameters (and their gradients and state) as the
    contiguous tensors they are in memory; registered once per optimizer, however often this is called."""
    if getattr(optimizer, _HANDLES, None) is not None:
        return optimizer
    permuted: list[tuple[torch.Tensor, tuple[int, ...]]] = []

    def after_step(opt: Optimizer, args: Any, kwargs: Any) -> None:
        while permuted:
            param, inverse = permuted.pop()
            _permute(param, opt.state.get(param, {}), inverse, param.shape, None)

    def before_step(opt: Optimizer, args: Any, kwargs: Any) -> None:
        after_step(opt, args, kwargs)  # a step that raised left its views: put them back first
        for group in opt.param_groups:
            for param in group['params']:
                memory_format = storage_format(param)
                if memory_format is None:
                    continue
                _, order, inverse = STORAGE_ORDERS[memory_format]
                _permute(param, opt.state.get(param, {}), order, param.shape, memory_format)
                permuted.append((param, inverse))

    setattr(optimizer, _HANDLES, (optimizer.register_step_pre_hook(before_step),
                                  optimizer.register_step_post_hook(after_step)))
    return optimizer
