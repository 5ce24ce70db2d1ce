"""A detector's class count against its dataset's, before any loop runs.

Too few classes failed in torchvision's loss ('Target 2 is out of bounds') with no word of num_classes; too many
(the COCO configs' 80 on a custom set) trained without complaint and failed only in CocoMetric at the end. A
classifier may score more classes than a dataset holds (a subset of its classes), so there it is a warning, for
the training set only.
"""
from __future__ import annotations

from typing import Any

from mmengine.model import is_model_wrapper
from torch import nn


def check_detector_classes(model: nn.Module, dataset: Any, where: str) -> None:
    """ValueError when ``model`` is a detector (it has ``roi_heads``) whose ``num_classes`` differs from the number
    of ``classes`` in ``dataset``'s metainfo (``where`` names the loader in the config)."""
    model = model.module if is_model_wrapper(model) else model
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if not hasattr(model, 'roi_heads') or not isinstance(getattr(model, 'num_classes', None), int) or not classes:
        return
    if model.num_classes != len(classes):
        raise ValueError(f'model.roi_head.num_classes={model.num_classes}, but {where}.dataset has {len(classes)} '
                         f'classes {list(classes)[:10]}{" ..." if len(classes) > 10 else ""}; set '
                         f'model.roi_head.num_classes={len(classes)}')


def surplus_outputs_warning(model: nn.Module, dataset: Any, where: str) -> str | None:
    """A warning when a classifier's head has more outputs than ``dataset`` (the training set) has classes: their
    logits never see a label (``model.num_classes=12`` on ten classes trained without a word, and the checkpoint
    names ten classes for twelve outputs). Fewer is already an error, at the first label past them."""
    model = model.module if is_model_wrapper(model) else model
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if hasattr(model, 'roi_heads') or not isinstance(fc, nn.Linear) or not classes or getattr(model, 'multi_label',
                                                                                                False):
        return None
    if fc.out_features > len(classes):
        return (f'the model has {fc.out_features} outputs (num_classes) but {where}.dataset has {len(classes)} '
                f'classes: {fc.out_features - len(classes)} outputs never see a label; set model.num_classes='
                f'{len(classes)} unless that is meant')
    return None
