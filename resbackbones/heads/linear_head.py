"""Linear classification head over pooled features (mmpretrain's ``head.fc`` naming)."""
from __future__ import annotations

import torch
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class LinearClsHead(nn.Module):
    """Dropout (optional) then ``fc``: (N, in_channels) -> (N, num_classes) logits."""

    def __init__(self, num_classes: int, in_channels: int, dropout: float = 0.0):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'num_classes must be an integer >= 1; got {num_classes!r}')
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f'dropout must be a probability in [0, 1); got {dropout!r}')  # -0.5 meant none
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x))
