"""Knowledge distillation loss (Hinton et al., 2015): the student matches the teacher's softened class scores."""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class KDLoss(nn.Module):
    """``weight * T^2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged over the batch.

    Args:
        temperature: T > 0; higher spreads the teacher's probability over more classes. The T^2 factor keeps the
            gradient scale independent of T, so ``weight`` means the same at any temperature.
        weight: the loss weight in the model's sum.
    """

    def __init__(self, temperature: float = 4.0, weight: float = 1.0):
        super().__init__()
        if not (isinstance(temperature, numbers.Real) and math.isfinite(temperature) and temperature > 0):
            raise ValueError(f'KDLoss: temperature must be a finite number > 0; got {temperature!r}')
        if not (isinstance(weight, numbers.Real) and math.isfinite(weight) and weight >= 0):  # NaN made every loss NaN
            raise ValueError(f'KDLoss: weight must be a finite number >= 0; got {weight!r}')
        self.temperature, self.weight = float(temperature), float(weight)

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        if student_logits.shape != teacher_logits.shape:
            raise ValueError(f'KDLoss: student logits {tuple(student_logits.shape)} and teacher logits '
                             f'{tuple(teacher_logits.shape)} differ in shape (same classes needed)')
        t = self.temperature
        log_student = F.log_softmax(student_logits / t, dim=1)
        log_teacher = F.log_softmax(teacher_logits.detach() / t, dim=1)
        kl = F.kl_div(log_student, log_teacher, reduction='batchmean', log_target=True)
        return self.weight * t * t * kl
