"""Top-k accuracy that asks for more classes than the model scores, found before the loop runs.

A base config's ``Accuracy(topk=(1, 5))`` inherited by a leaf config of three classes failed only when the
first validation epoch ended, an epoch of training in, with a traceback (mmpretrain's ``Accuracy`` refuses such a
k as well). mmaction2's ``AccMetric`` counts a k past the classes as all of them, so it is not checked here.
"""
from __future__ import annotations

from typing import Any

from mmengine.model import is_model_wrapper
from torch import nn

from ..evaluation.accuracy import Accuracy


def scored_classes(model: nn.Module) -> int | None:
    """How many classes ``model`` scores: its or its head's ``num_classes``, else its head's fc width; None when
    it does not say (a detector, a face model)."""
    model = model.module if is_model_wrapper(model) else model
    head = getattr(model, 'head', None)
    for owner in (model, head):
        count = getattr(owner, 'num_classes', None)
        if isinstance(count, int):
            return count
    fc = getattr(head, 'fc', None)
    return fc.out_features if isinstance(fc, nn.Linear) else None


def check_topk(evaluator: Any, model: nn.Module, where: str, listed: bool = False) -> None:
    """ValueError when an ``Accuracy`` metric of ``evaluator`` (mmengine's Evaluator, named ``where`` in the
    config, e.g. 'val_evaluator') asks for a k above the classes ``model`` scores. ``listed``: the config gives the
    evaluator as a list of metrics, so the fix names the metric's index (``where.1.topk``)."""
    classes = scored_classes(model)
    if classes is None:
        return
    for index, metric in enumerate(getattr(evaluator, 'metrics', ())):
        too_big = [k for k in getattr(metric, 'topk', ()) if k > classes] if isinstance(metric, Accuracy) else []
        if too_big:
            fits = tuple(k for k in metric.topk if k <= classes) or (1,)
            key, entry = (f'{where}.{index}', f'{where}[{index}]') if listed else (where, where)
            raise ValueError(f'{where}: Accuracy topk={metric.topk} asks for top-{max(too_big)}, but the model scores '
                             f'{classes} classes; set {entry}=dict(type=\'Accuracy\', topk={fits}) in the config, or '
                             f'--cfg-options "{key}.topk={fits}"')
