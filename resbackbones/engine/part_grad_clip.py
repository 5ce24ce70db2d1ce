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
from mmengine.optim import OptimWrapperDict

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
        for name, value in (('max_norm', max_norm), ('norm_type', norm_type)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f'PartGradClipHook: {name} must be a number > 0; got {value!r}')
        self.parts, self.max_norm, self.norm_type = tuple(parts), float(max_norm), float(norm_type)
        self._handle = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        missing = [p for p in self.parts if not isinstance(getattr(model, p, None), torch.nn.Module)]
        if missing:
            raise ValueError(f'PartGradClipHook: {type(model).__name__} has no submodule(s) {missing}')
        params = [p for part in self.parts for p in getattr(model, part).parameters() if p.requires_grad]
        if not params:  # frozen or parameter-free parts: it clipped nothing, without a word
            raise ValueError(f'PartGradClipHook: parts {list(self.parts)} of {type(model).__name__} have no '
                             'trainable parameters to clip')
        if isinstance(runner.optim_wrapper, OptimWrapperDict):
            raise ValueError('PartGradClipHook needs one optimizer (optim_wrapper with an optimizer); got '
                             f'{type(runner.optim_wrapper).__name__}: clip each optimizer\'s part with its '
                             'optim_wrapper.<name>.clip_grad instead')

        def clip(optimizer, args, kwargs) -> None:
            torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], self.max_norm, self.norm_type)
        if self._handle is not None:
            self._handle.remove()
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(clip)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


def check_clip_with_sharded_rows(model: torch.nn.Module, optim_wrapper: dict | None) -> None:
    """ValueError for ``optim_wrapper.clip_grad`` on a model whose parameters are sharded over ranks (Partial FC's
    class centres): each rank's norm then counts its own rows, so ranks scaled the same averaged network gradient
    by different factors and their copies of the network drifted apart, without a word."""
    from .sharded_rows import sharded_parameters  # the engine's sharding helpers import the model wrappers
    sharded = [key for key, _, _, rows, total in sharded_parameters(model) if rows != total]
    wrappers = [optim_wrapper] if isinstance(optim_wrapper, dict) and 'clip_grad' in optim_wrapper else []
    if isinstance(optim_wrapper, dict) and 'optimizer' not in optim_wrapper and 'type' not in optim_wrapper:
        wrappers = [w for w in optim_wrapper.values() if isinstance(w, dict)]
    if sharded and any(w.get('clip_grad') is not None for w in wrappers):
        raise ValueError(f'optim_wrapper.clip_grad on several ranks with row-sharded parameters ({sharded[:3]}): '
                         'the norm of each rank would count its own rows, and the ranks\' networks drift apart. '
                         "Clip the network alone, as arcface_torch does: custom_hooks=[dict(type='PartGradClipHook', "
                         "parts=('backbone', 'embedding'), max_norm=5.0)] and optim_wrapper.clip_grad=None")
