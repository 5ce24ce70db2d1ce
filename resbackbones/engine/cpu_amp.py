"""CPU mixed precision for training: bf16 autocast in the optimizer wrapper, and channels_last as a hook.

mmengine's AmpOptimWrapper requires CUDA (it asserts a GPU and uses a GradScaler); on CPU bf16 has fp32's
exponent range, so no loss scaling is needed and autocast alone is the switch. Config:
``optim_wrapper = dict(type='CPUAmpOptimWrapper', ...)`` and ``custom_hooks = [..., dict(type='ChannelsLastHook')]``.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from torch import nn

from ..registry import HOOKS, OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward context is ``torch.autocast('cpu', dtype)`` (default bfloat16).

    Convolutions and matmuls run in bf16 (oneDNN; fast where the CPU has avx512_bf16 or AMX); weights, optimizer
    state and reductions stay fp32.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"CPUAmpOptimWrapper: dtype must be 'bfloat16' or 'float16'; got {dtype!r}")
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Put the model's 4D weights in channels_last (NHWC) before training and testing; convolutions then
    produce NHWC outputs from NCHW inputs, which oneDNN runs faster on CPU."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        runner.model.to(memory_format=torch.channels_last)
