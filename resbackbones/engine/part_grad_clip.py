"""Gradient clipping of some of the model's parameters, as arcface_torch clips its backbone's only.

arcface_torch's train_v2.py calls ``clip_grad_norm_(backbone.parameters(), 5)`` before each step, and its
"backbone" is the IResNet with its embedding layers, not the Partial FC class centres. mmengine's ``clip_grad``
clips every parameter of the optimizer together, which would let the centres' gradients scale the network's.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..registry import HOOKS


@HOOKS.register_module()
class PartGradClipHook(Hook):
    """Clip the gradient norm of the named submodules' parameters (together) before every optimizer step.

    Args:
        parts: attribute names of the model's submodules, e.g. ('backbone', 'embedding').
        max_norm: the norm they are clipped to (arcface_torch: 5). norm_type: as ``clip_grad_norm_``'s.

    It runs as a step pre-hook on the optimizer, so it sees the gradients after gradient accumulation, DDP's
    all-reduce and, under AMP, the loss scaler's unscaling (GradScaler unscales before calling ``step``).
    """

    def __init__(self, parts: Sequence[str] = ('backbone', 'embedding'), max_norm: float = 5.0,
                 norm_type: float = 2.0):
        if isinstance(parts, str) or not parts:
            raise ValueError(f'PartGradClipHook: parts must be a non-empty list of submodule names; got {parts!r}')
        if not max_norm > 0:
            raise ValueError(f'PartGradClipHook: max_norm must be > 0; got {max_norm!r}')
        self.parts, self.max_norm, self.norm_type = tuple(parts), float(max_norm), float(norm_type)
        self._handle = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        missing = [p for p in self.parts if not isinstance(getattr(model, p, None), torch.nn.Module)]
        if missing:
            raise ValueError(f'PartGradClipHook: {type(model).__name__} has no submodule(s) {missing}')
        params = [p for part in self.parts for p in getattr(model, part).parameters() if p.requires_grad]

        def clip(optimizer, args, kwargs) -> None:
            torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], self.max_norm, self.norm_type)
        if self._handle is not None:
            self._handle.remove()
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(clip)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
