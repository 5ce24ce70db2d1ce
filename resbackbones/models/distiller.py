"""A classifier trained with a frozen teacher's soft labels (knowledge distillation).

``DistillClassifier`` *is* the student ImageClassifier (same backbone / head keys), so its checkpoint loads into
the plain student config for testing and deployment. The teacher is built from its own config file and
checkpoint, kept frozen in eval mode, and held outside the module tree: it is neither saved in the student's
checkpoint nor touched by the optimizer.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ..engine.checkpoint_classes import class_names
from ..engine.config import load_config
from ..registry import MODELS
from ..weights.io import read_checkpoint
from .classifier import ImageClassifier
from .labels import gt_labels


def load_teacher(config: str, checkpoint: str) -> nn.Module:
    """The model of ``config`` with ``checkpoint``'s weights (strict), frozen, in eval mode; ``teacher.classes``
    are the classes it was trained on (the checkpoint's ``meta.dataset_meta``), None when it does not say."""
    try:  # 'config file not found' alone read as if the run's own config were missing
        teacher = MODELS.build(load_config(config).model)
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise ValueError(f'DistillClassifier teacher_config {config}: {err}') from err
    try:
        read = read_checkpoint(checkpoint)
    except (FileNotFoundError, ValueError) as err:
        raise ValueError(f'DistillClassifier teacher_checkpoint {checkpoint}: {err}') from err
    state = read.state
    own = teacher.state_dict()
    misfits = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}' for k, v in state.items()
               if k in own and hasattr(v, 'shape') and v.shape != own[k].shape]
    if misfits:  # load_state_dict would raise its own RuntimeError, a traceback in a training run
        raise ValueError(f'teacher checkpoint {checkpoint} does not fit {config}: {len(misfits)} tensors differ in '
                         f'shape, e.g. {misfits[0]}')
    result = teacher.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f'teacher checkpoint {checkpoint} does not match {config}: missing '
                         f'{result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]}')
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher.classes = class_names(read.meta.get('dataset_meta'))
    return teacher.eval()


@MODELS.register_module()
class DistillClassifier(ImageClassifier):
    """ImageClassifier (the student) whose loss adds KD towards a teacher classifier.

    Args:
        teacher_config / teacher_checkpoint: the teacher's config file (its ``model``) and trained weights; its
            classes must be the student's. The teacher sees the same preprocessed inputs as the student.
        kd_loss: config of the distillation loss (default ``KDLoss(temperature=4, weight=1)``).
        ce_weight: weight of the student's cross-entropy with the true labels.
        other args: ImageClassifier's (backbone, num_classes, ...).

    Loss dict: ``loss_ce`` and ``loss_kd``; other modes are the student's.
    """

    def __init__(self, *args, teacher_config: str, teacher_checkpoint: str, kd_loss: dict | None = None,
                 ce_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher_config, self.teacher_checkpoint = teacher_config, teacher_checkpoint
        self._teacher: list[nn.Module] = []  # a list: kept out of the module tree (and out of checkpoints)
        self.kd_loss = MODELS.build(kd_loss or dict(type='KDLoss'))
        if not (isinstance(ce_weight, numbers.Real) and math.isfinite(ce_weight) and ce_weight >= 0):
            # -1 maximised the cross-entropy without a word; None failed at the first step
            raise ValueError(f'DistillClassifier: ce_weight must be a finite number >= 0; got {ce_weight!r}')
        self.ce_weight = float(ce_weight)

    def init_weights(self) -> None:
        """mmengine calls this before training: load the teacher then, so a missing or mismatched teacher file is
        reported before the first iteration, while building the model (e.g. to test the student) needs no file."""
        super().init_weights()
        theirs, ours = self.teacher.head.fc.out_features, self.head.fc.out_features
        if theirs != ours:  # else KDLoss failed at the first step, inside the training loop
            raise ValueError(f'teacher {self.teacher_checkpoint} ({self.teacher_config}) has {theirs} classes, the '
                             f'student {ours}: distillation needs the same classes')

    @property
    def teacher_classes(self) -> list[str] | None:
        """The classes the teacher was trained on, for SafeRunner to compare with the training set's."""
        return self.teacher.classes

    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher, loaded from its config and checkpoint on first use."""
        if not self._teacher:
            self._teacher.append(load_teacher(self.teacher_config, self.teacher_checkpoint))
        return self._teacher[0]

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        logits = self.tensor(inputs)
        labels = gt_labels(data_samples, logits.device, logits.shape[1], type(self).__name__)
        teacher = self.teacher.to(inputs.device).eval()
        with torch.no_grad():
            teacher_logits = teacher.tensor(inputs)
        return {'loss_ce': self.ce_weight * F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing),
                'loss_kd': self.kd_loss(logits, teacher_logits)}
