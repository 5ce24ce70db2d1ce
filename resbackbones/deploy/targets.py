"""What of a task model a backend runs: the tensor-in, tensor-out part, with an example input.

Every task model exposes ``tensor(inputs)``: classifier logits, U-Net logits of one patch, a face embedding, or a
detector's backbone + neck features. That function is what gets folded, compiled or exported (for classifiers the
logits of every clip, ``clip_logits``, which is what their predict reads: the same as ``tensor`` for images); the
rest (sliding windows, clip averaging, softmax, the detector's RPN / RoI heads with NMS and RoIAlign) stays in
torch and calls the deployed part.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..models.base import TaskModel
from ..models.unet import pad_to_multiple

KINDS = ('classifier', 'segmentor', 'detector', 'backbone', 'model', 'module')


class TensorPart(nn.Module):
    """``model.tensor(x)`` (classifiers: ``model.clip_logits(x)[0]``, or ``model(x)`` for a bare backbone) as a
    module of its own, for tracing/export."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        if kind_of(self.model) == 'classifier':
            out = self.model.clip_logits(x)[0]
        else:
            out = self.model.tensor(x) if isinstance(self.model, TaskModel) else self.model(x)
        return tuple(out) if isinstance(out, list) else out


@dataclass
class DeployTarget:
    """The part to deploy. ``dynamic_spatial``: whether exported graphs may take other H, W than ``example``'s
    (True for 2D inputs: the U-Net's example is padded to its deepest stride so that no padding is traced, and
    ``attach`` pads other sizes before calling the backend). ``shape_varies``: whether calls seldom come at the
    example's shape (a detector's RoI branches, whose first axis is the RoI count), so that a backend should not
    specialise to that shape. ``divisors``: what each spatial axis of an input must be a multiple of (the U-Net's
    deepest strides: its padding is outside the exported graph)."""
    module: TensorPart
    example: torch.Tensor
    kind: str
    dynamic_spatial: bool
    shape_varies: bool = False
    divisors: tuple[int, ...] = ()

    def check_input(self, x: torch.Tensor, runner: str) -> None:
        """ValueError naming the shape an exported graph was made for when ``x``'s spatial size is another: such a
        graph would return wrong values or an output of the example's size, not an error (``runner``: who asks)."""
        if x.dim() != self.example.dim():
            return  # the runtime's own error names the rank it expected
        spatial, fixed = tuple(x.shape[2:]), tuple(self.example.shape[2:])
        if not self.dynamic_spatial and spatial != fixed:
            raise ValueError(f'{runner}: the {self.kind} was exported for inputs of spatial size {fixed} only; got '
                             f'{tuple(x.shape)} (a 3D U-Net: use test_cfg mode="slide" with patch_size {fixed})')
        if self.dynamic_spatial and any(n % d for n, d in zip(spatial, self.divisors)):
            raise ValueError(f'{runner}: the {self.kind} takes spatial sizes that are multiples of {self.divisors} '
                             f'(its padding is not in the exported graph; attach() pads); got {tuple(x.shape)}')


def kind_of(model: nn.Module) -> str:
    """'classifier', 'segmentor', 'detector', 'backbone' (has feature_specs, no task), 'model' (other tasks) or
    'module' (any other module, called as ``module(x)``, e.g. a torchvision model to compare against)."""
    if hasattr(model, 'roi_heads') and hasattr(model, 'extract_feat'):
        return 'detector'
    if hasattr(model, 'seg_head'):
        return 'segmentor'
    if hasattr(model, 'clip_logits'):  # ImageClassifier and the video recognizers: what their predict reads
        return 'classifier'
    if not isinstance(model, TaskModel) and hasattr(model, 'feature_specs'):
        return 'backbone'
    return 'model' if isinstance(model, TaskModel) else 'module'


def deploy_target(model: nn.Module, example: torch.Tensor) -> DeployTarget:
    """The tensor part of eval-mode ``model`` and its example input (N, C, H, W), checked by one forward."""
    if example.dim() < 4:
        raise ValueError(f'example input must be (N, C, H, W) or (N, C, T, H, W); got {tuple(example.shape)}')
    if hasattr(model, 'deployable'):  # a model whose traceable form depends on the input (OmniSource's images)
        model = model.deployable(example)
    kind = kind_of(model)
    example = example.contiguous()  # a strided view (a tile of a larger image) would be traced with its strides
    if kind == 'segmentor':
        example = pad_to_multiple(example, model.divisors)
    part = TensorPart(model.eval()).eval()
    try:
        with torch.no_grad():
            part(example)
    except RuntimeError as err:
        raise ValueError(f'{type(model).__name__} does not run on an input of shape {tuple(example.shape)}: '
                         f'{str(err).splitlines()[0]}') from err
    return DeployTarget(part, example, kind, dynamic_spatial=example.dim() == 4,
                        divisors=tuple(model.divisors) if kind == 'segmentor' else ())


def attach(model: nn.Module, run: Callable[[torch.Tensor], object]) -> nn.Module:
    """Make ``model``'s own predict path call ``run`` (a deployed tensor part) instead of its torch layers.

    Detectors: ``extract_feat`` returns ``run``'s features, so the RPN and RoI heads run in torch on them; a
    ``DetectorBackend`` (``roi_branches``) also routes the box and mask branches through its branch backends.
    U-Net: ``logits`` (each sliding-window patch). Classifier: ``clip_logits`` (the clips per sample are the
    backend's rows per input). Other task models (face): ``tensor``, which their predict calls. Returns ``model``
    (changed in place).
    """
    kind = kind_of(model)
    if kind == 'detector':
        names = model._names
        model.extract_feat = lambda x: OrderedDict(zip(names, run(x)))
        if getattr(run, 'branches', None):
            from .roi_branches import attach_branches  # it builds on this module's targets
            attach_branches(model, run.branches)
    elif kind == 'segmentor':
        divisors = model.divisors
        model.logits = lambda x: run(pad_to_multiple(x, divisors))[(..., *(slice(0, n) for n in x.shape[2:]))]
    elif kind == 'classifier':
        def clip_logits(x: torch.Tensor) -> tuple[torch.Tensor, int]:
            logits = run(x)
            return logits, logits.shape[0] // x.shape[0]
        model.clip_logits = clip_logits
    elif kind == 'model':
        model.tensor = run
    else:
        raise ValueError(f'attach: a {kind} has no predict path; call the deployed backend directly')
    return model
