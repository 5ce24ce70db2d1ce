"""CPU mixed precision for training: bf16 autocast in the optimizer wrapper, and channels_last as a hook.

mmengine's AmpOptimWrapper requires CUDA (it asserts a GPU and uses a GradScaler); on CPU bf16 has fp32's
exponent range, so no loss scaling is needed and autocast alone is the switch. Channels-last weights serve video
models too (5D weights as channels_last_3d). Config:
``optim_wrapper = dict(type='CPUAmpOptimWrapper', ...)`` and ``custom_hooks = [..., dict(type='ChannelsLastHook')]``.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from ..registry import HOOKS, OPTIM_WRAPPERS
from .storage_order_step import step_in_storage_order


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward context is ``torch.autocast('cpu', dtype)`` (default bfloat16).

    Convolutions and matmuls run in bf16 (oneDNN; fast where the CPU has avx512_bf16 or AMX); weights, optimizer
    state and reductions stay fp32.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        if dtype != 'bfloat16':  # float16 has no fp32 exponent range: unscaled, small gradients underflowed to 0
            raise ValueError(f"CPUAmpOptimWrapper: dtype must be 'bfloat16' (float16 would need loss scaling, which "
                             f'only the GPU AmpOptimWrapper has); got {dtype!r}')
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield


CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}  # by tensor rank: 2D and 3D conv weights


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store every 4D parameter channels_last (NHWC) and every 5D one channels_last_3d (NDHWC), in place (the
    Parameter objects stay, so an optimizer built before keeps them). ``Module.to(memory_format=channels_last)``
    cannot do this for a model with 3D convolutions: it refuses 5D tensors.

    The strides are the format's own even where size-1 dims leave them free (a 1x1 kernel): oneDNN's gradients
    come with those, and DDP copies every gradient whose strides differ from its parameter's."""
    for param in model.parameters():
        memory_format = CHANNELS_LAST.get(param.dim())
        if memory_format is None:
            continue
        strides = torch.empty(param.shape, device='meta', memory_format=memory_format).stride()  # no allocation
        if param.stride() != strides:
            param.data = torch.empty_like(param.data, memory_format=memory_format).copy_(param.data)
    return model


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Put the model's conv weights in channels_last (2D: NHWC, 3D: NDHWC) before training and testing. oneDNN's
    2D convolutions then produce NHWC outputs from NCHW inputs and run faster on CPU; its 3D ones keep NCDHW
    outputs, but their backward pass runs faster with NDHWC weights (docs/video.md: the video demo's step). The
    runner's optimizers then step on those weights in their memory order (storage_order_step.py): fused ones would
    otherwise copy every weight, gradient and moment to NCHW and back each step.

    Args:
        storage_order_step: step the optimizers in the weights' memory order; False keeps torch's own step (to
            measure what its copies cost: tools/benchmark_cpu_training.py).
    """

    priority = 'VERY_HIGH'

    def __init__(self, storage_order_step: bool = True):
        self.storage_order_step = storage_order_step

    def before_run(self, runner) -> None:
        to_channels_last(runner.model)
        if not self.storage_order_step:
            return
        wrapper = getattr(runner, 'optim_wrapper', None)  # a config dict until the runner builds it
        wrappers = wrapper.optim_wrappers.values() if isinstance(wrapper, OptimWrapperDict) else [wrapper]
        for each in wrappers:
            if isinstance(each, OptimWrapper):
                step_in_storage_order(each.optimizer)
