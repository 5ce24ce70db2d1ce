"""Global average pooling over every position of a feature map, 2D or 3D."""
from __future__ import annotations

import torch


def global_average(x: torch.Tensor) -> torch.Tensor:
    """(N, C, *positions) -> (N, C): the mean over H, W (and T).

    Reduced over the position axes in place rather than after ``flatten(2)``: the flatten copies a channels_last
    tensor in torch and, in an exported graph, makes the runtime reorder the last feature map out of its own
    layout before a reshape (OpenVINO did; see docs/deploy.md, "Static shapes").
    """
    return x.mean(dim=tuple(range(2, x.dim())))
