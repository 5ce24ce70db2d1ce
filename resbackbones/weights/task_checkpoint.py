"""A whole task model's checkpoint from another library, for ``tools/test.py CONFIG CKPT`` and ``load_from``.

mmengine loads a checkpoint whose keys do not fit the model non-strictly: it warns and runs on with the unmatched
layers as initialised, so a test would score a partly random model. SafeRunner asks here first:

- our own checkpoint (every model key present with its shape, or no foreign format recognised) -> None, and
  mmengine loads it as before, non-strictly for ``load_from`` (fine-tuning with another head); but one of which no
  key names a weight of the model (a backbone-only file for a classifier) -> ValueError: nothing would load;
- a foreign one -> the converter of its format for the model's kind, all or nothing: insightface's IResNet files
  into a FaceRecognizer (its margin-head centres live in another file and stay as they are), mmdet's and
  torchvision's detectors into FasterRCNN / MaskRCNN, and the classifier formats of ``load_pretrained`` (timm,
  torchvision, mmpretrain, mmaction2 recognizers ...) into classifiers and recognizers, backbone and head (and
  mmaction2's AVA detectors into FastRCNN, backbone and RoI head);
- a foreign format with no converter for the model, or a head that does not fit -> ValueError naming the file.

All or nothing is for scoring (``tools/test.py`` sets ``load_strict``). A training run's ``load_from`` loads a foreign
file as mmengine loads any: what fits, with a WARNING naming what stays as initialised, because starting from a
file that lacks parts is how mmaction2's configs fine-tune (a Kinetics PoseC3D into an HMDB51 head, RGBPoseConv3D
from a merge of two single-stream files without the lateral connections) and how mmdet's fine-tune a COCO detector.
"""
from __future__ import annotations

import os

from torch import nn

from .insightface import load_insightface
from .io import read_checkpoint
from .load import load_pretrained, log_report
from .sources import detect_source

SHOWN = 5
FINE_TUNE = 'To fine-tune from it, give it as load_from to tools/train.py, which loads the parts that fit.'


def matches_model(state: dict, model: nn.Module) -> bool:
    """Whether ``state`` holds every key of ``model`` (batch-norm counters aside) with the model's shape; for a
    row-sharded parameter (Partial FC on several ranks) the whole matrix's, which is what checkpoints hold."""
    from ..engine.sharded_rows import sharded_parameters  # the engine builds on weights: imported when used
    target = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for key, param, _, _, total in sharded_parameters(model):
        target[key] = (total, *param.shape[1:])
    return all(k in state and tuple(state[k].shape) == shape for k, shape in target.items()
               if not k.endswith('num_batches_tracked'))


def load_task_checkpoint(model: nn.Module, path: str | os.PathLike, strict: bool = True) -> str | None:
    """Load foreign checkpoint ``path`` into task ``model``; returns what was done, or None for our own format
    (left to mmengine). ``strict``: whole or a ValueError naming the file; otherwise (fine-tuning) the parts that
    fit, the rest reported and kept as initialised, but still a ValueError when the backbone does not fit."""
    ckpt = read_checkpoint(path, mmap=True)  # read to tell the format; mmengine may read it again
    if matches_model(ckpt.state, model) or _same_names(ckpt.state, model):
        return None
    source, evidence = detect_source(ckpt)
    if source == 'native':
        if not set(ckpt.state) & set(model.state_dict()):  # mmengine would load nothing, with a warning
            raise ValueError(f'{ckpt.origin}: none of its {len(ckpt.state)} tensors has the name of a weight of the '
                             f'{type(model).__name__} (its keys: {list(ckpt.state)[:SHOWN]}; the model\'s: '
                             f'{list(model.state_dict())[:SHOWN]}); backbone weights load through '
                             f"model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...)")
        return None
    what = f'{ckpt.origin}: {source} checkpoint ({evidence})'
    if source == 'insightface' and hasattr(model, 'embedding'):
        before = _snapshot(model)
        report = load_insightface(model, ckpt, strict=strict)
        _refuse_another_architecture(model, before, report, what)
        return f'{what}:\n{report}'
    if hasattr(model, 'roi_heads'):
        # imported here: `python -m resbackbones.weights.<converter>` warned that the package had imported them
        from .mmdet_detection import load_mmdet_detection
        from .torchvision_detection import load_torchvision_detection
        loaders = {'mmdet': load_mmdet_detection, 'torchvision_detection': load_torchvision_detection}
        if source not in loaders:
            raise ValueError(f'{what}; a {type(model).__name__} loads mmdet or torchvision detection checkpoints')
        outcome = loaders[source](model, ckpt, strict=strict)
        return f'{what}: loaded into {type(model).__name__} ({outcome})'
    if hasattr(model, 'roi_head') and not any(k.startswith('roi_head.') for k in ckpt.state):
        raise ValueError(f"{what}; it has no 'roi_head.' weights for {type(model).__name__}'s action classifier (a "
                         "recognizer's checkpoint initialises the backbone through init_cfg=dict(type='Pretrained'))")
    if hasattr(model, 'backbone') and any(hasattr(model, name) for name in ('head', 'cls_head', 'roi_head')):
        # load_pretrained loads the backbone before the head's fit is known: put everything back when it fails
        before = _snapshot(model)
        try:
            report = load_pretrained(model, ckpt, source=source, strict=strict, log=False)
        except ValueError as err:
            if not str(err).startswith('strict load of'):  # another architecture: no fine-tuning either
                raise
            raise ValueError(f'{err} {FINE_TUNE}') from None
        report.evidence = evidence  # detected here, not given by the user
        log_report(report)
        _refuse_another_architecture(model, before, report, what)
        if strict and report.from_2d:  # a 2D recognizer's file scored as a 3D model (1.0 where its own gave 0.5)
            model.load_state_dict(before)
            raise ValueError(f'{what}; it holds 2D weights, which would be made 3D ({report.from_2d} kernels '
                             f'inflated or factorised) to score this {type(model).__name__}: it was saved from '
                             f'another network. The model was not changed. {FINE_TUNE}')
        if strict and (report.missing or report.mismatched or report.untouched):
            model.load_state_dict(before)
            raise ValueError(f'{what}; it fits {type(model).__name__} only in part: missing '
                             f'{(report.missing + report.untouched)[:SHOWN]}, shapes {report.mismatched[:SHOWN]} (is '
                             'num_classes the same as in the checkpoint? was it saved from a model with the same '
                             f'neck?). The model was not changed. {FINE_TUNE}')
        return f'{what}:\n{report}'
    raise ValueError(f'{what}; no converter loads it whole into a {type(model).__name__}')


def _same_names(state: dict, model: nn.Module) -> bool:
    """Every tensor name the model's and no other, the backbone's shapes too: our own layout with another head
    (another num_classes), which mmengine loads key for key (a U-Net or face model of ours was taken for an
    mmpretrain file and refused). A backbone of other shapes (a 2D file for a 3D model) goes to the converters."""
    target = model.state_dict()
    names = {k for k in target if not k.endswith('num_batches_tracked')}
    if {k for k in state if not k.endswith('num_batches_tracked')} != names:
        return False
    return all(tuple(state[k].shape) == tuple(target[k].shape) for k in names if k.startswith('backbone.'))


def _snapshot(model: nn.Module) -> dict:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _refuse_another_architecture(model: nn.Module, before: dict, report, what: str) -> None:
    """Backbone weights with nowhere to go (a ResNet-34 file for a ResNet-18) mean another network, which no
    fine-tuning wants to start from in part: put ``before`` back and raise. Strict loads refused them already."""
    if report.unexpected:
        model.load_state_dict(before)
        raise ValueError(f'{what}; {len(report.unexpected)} of its weights have no place in the '
                         f'{type(model).__name__}: unexpected {report.unexpected[:SHOWN]} (another depth or '
                         'architecture). The model was not changed.')
