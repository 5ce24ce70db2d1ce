"""A detector's per-RoI branches as deploy targets: box head + predictor, and mask head + predictor.

Deploying backbone + FPN alone leaves the RoI branches in torch eager, where at 100 detections the mask branch
(four 3x3 convs and a transposed conv per 14x14 RoI) takes a quarter of a CPU predict. Each branch is a
tensor-in module on pooled RoI features, (R, C, 7, 7) for boxes and (R, C, 14, 14) for masks, R varying per
image, so it deploys like any other target with a dynamic first axis; RoIAlign, NMS, box decoding and mask
pasting stay in torch. Examples and int8 calibration are the RoI features the detector pools on real images.
"""
from __future__ import annotations

import os
from typing import Callable

import torch
from torch import nn

from .backend import Backend, build_backend
from .targets import DeployTarget, TensorPart

BRANCHES = {'box': ('box_head', 'box_predictor'), 'mask': ('mask_head', 'mask_predictor')}


class RoIBranch(nn.Module):
    """``predictor(head(x))``: box -> (class logits (R, K+1), box deltas (R, 4(K+1))); mask -> (R, K+1, 28, 28)."""

    def __init__(self, head: nn.Module, predictor: nn.Module):
        super().__init__()
        self.head, self.predictor = head, predictor

    def forward(self, x: torch.Tensor):
        return self.predictor(self.head(x))


class DeployedBranch(nn.Module):
    """Takes a branch's predictor slot once its head slot is an identity: runs the deployed branch, or the eager
    one on zero RoIs (runtimes refuse empty batches)."""

    def __init__(self, run: Callable[[torch.Tensor], object], eager: RoIBranch):
        super().__init__()
        self.run, self.eager = run, eager

    def forward(self, x: torch.Tensor):
        return self.eager(x) if x.shape[0] == 0 else self.run(x)


def branches_of(model: nn.Module) -> list[str]:
    """The branches ``model.roi_heads`` has: 'box', and 'mask' for Mask R-CNN."""
    heads = model.roi_heads
    return ['box'] + (['mask'] if heads.has_mask() else [])


def roi_features(model: nn.Module, images: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The pooled RoI features each branch receives while eval-mode ``model`` predicts ``images`` (preprocessed
    (N, C, H, W) batches), concatenated over the images: {'box': (R, C, 7, 7), 'mask': (D, C, 14, 14)}."""
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in branches_of(model)}
    hooks = [getattr(model.roi_heads, BRANCHES[name][0]).register_forward_pre_hook(
        lambda _module, args, name=name: seen[name].append(args[0].detach().clone())) for name in seen]
    try:
        with torch.no_grad():
            for batch in images:
                model(batch, mode='predict')
    finally:
        for hook in hooks:
            hook.remove()
    features = {name: torch.cat(parts) for name, parts in seen.items() if parts}
    empty = [name for name in seen if name not in features or len(features[name]) == 0]
    if empty:
        raise ValueError(f'the detector pooled no RoIs for its {empty} branch on the {len(images)} example '
                         f'image batch(es), so that branch has no example to deploy from; deploy the features only '
                         f'(--features-only) or give images with detections')
    return features


def branch_targets(model: nn.Module, features: dict[str, torch.Tensor]) -> dict[str, DeployTarget]:
    """One DeployTarget per branch, its example the given RoI features (dynamic first axis only)."""
    targets = {}
    for name in branches_of(model):
        head, predictor = (getattr(model.roi_heads, attr) for attr in BRANCHES[name])
        targets[name] = DeployTarget(TensorPart(RoIBranch(head, predictor).eval()).eval(), features[name],
                                     kind='module', dynamic_spatial=False, shape_varies=True)
    return targets


def attach_branches(model: nn.Module, runs: dict[str, Callable[[torch.Tensor], object]]) -> nn.Module:
    """Route ``model.roi_heads``' branches through ``runs`` (branch name -> deployed callable), in place."""
    heads = model.roi_heads
    for name, run in runs.items():
        head_attr, predictor_attr = BRANCHES[name]
        eager = RoIBranch(getattr(heads, head_attr), getattr(heads, predictor_attr))
        setattr(heads, head_attr, nn.Identity())
        setattr(heads, predictor_attr, DeployedBranch(run, eager))
    return model


class DetectorBackend(Backend):
    """A detector deployed whole: the backbone + neck backend and one backend per RoI branch, one runtime and
    precision. Called like the features backend; ``attach`` also routes the branches; ``save`` writes the
    features' files at the top and each branch's into ``<name>_branch/``."""

    def __init__(self, features: Backend, branches: dict[str, Backend], calibration_rois: dict[str, int] | None = None):
        self.name, self.precision, self.target, self.kind = features.name, features.precision, features.target, \
            features.kind
        self.features, self.branches, self.calibration_rois = features, branches, calibration_rois or {}

    def __call__(self, x: torch.Tensor):
        return self.features(x)

    def save(self, folder: str) -> list[str]:
        files = self.features.save(folder)
        for name, backend in self.branches.items():
            sub = os.path.join(folder, f'{name}_branch')
            os.mkdir(sub)
            files += [f'{name}_branch/{f}' for f in backend.save(sub)]
        return files

    def describe(self) -> dict:
        return {**self.features.describe(),
                'roi_branches': {name: {'example_shape': list(b.target.example.shape),
                                        **({'calibration_rois': self.calibration_rois[name]}
                                           if name in self.calibration_rois else {})}
                                 for name, b in self.branches.items()}}


def build_detector_backend(name: str, model: nn.Module, target: DeployTarget, precision: str = 'fp32',
                           calibration: list[torch.Tensor] | None = None, **options) -> DetectorBackend:
    """Deploy detector ``model`` whole with backend ``name``: ``target`` (its features, from ``deploy_target``)
    and every RoI branch. Branch examples are the RoI features of ``target.example``; int8 calibrates the
    features on ``calibration`` (preprocessed image batches) and each branch on the RoI features of those images.
    """
    int8 = precision == 'int8'
    features = build_backend(name, target, precision, **options, **({'calibration': calibration} if int8 else {}))
    examples = roi_features(model, [target.example])
    calibration_features = roi_features(model, calibration) if int8 and calibration else None
    # a branch's RoI count changes call by call, so a model compiled per shape would be compiled for nearly every
    # call: the branches keep their backend's default (OpenVINO: the dynamic model only), whatever the features got
    branch_options = {key: value for key, value in options.items() if key != 'static_shapes'}
    branches = {}
    for branch, branch_target in branch_targets(model, examples).items():
        extra = {'calibration': [calibration_features[branch]]} if calibration_features else {}
        branches[branch] = build_backend(name, branch_target, precision, **branch_options, **extra)
    counts = {name: len(f) for name, f in calibration_features.items()} if calibration_features else None
    return DetectorBackend(features, branches, counts)
