"""Additive angular / cosine margin heads for face recognition (ArcFace, CosFace, and insightface's combination).

The head holds one weight vector per identity. Logits are s * cos(theta_j) between the L2-normalised embedding and
weights, except for the true identity y during training, whose logit is s * (cos(m1 * theta_y + m2) - m3):
ArcFace is (m1, m2, m3) = (1, 0.5, 0), CosFace (1, 0, 0.35). As in insightface, where theta_y + m2 would pass pi
(and cos would stop decreasing), the ArcFace logit continues linearly as cos(theta_y) - sin(m2) * m2.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class MarginHead(nn.Module):
    """Cosine classifier with a combined angular/additive margin on the target class.

    Args:
        embedding_dim: width of the embeddings. num_classes: number of identities.
        scale: s, the logit scale (64 in ArcFace). margins: (m1, m2, m3) as above; m1 must be 1 (the multiplicative
            SphereFace margin is not supported).
    """

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0,
                 margins: tuple[float, float, float] = (1.0, 0.5, 0.0)):
        super().__init__()
        m1, m2, m3 = (float(m) for m in margins)
        if m1 != 1.0 or m2 < 0 or m3 < 0 or not 0 <= m2 < math.pi / 2:
            raise ValueError(f'margins must be (1, m2, m3) with 0 <= m2 < pi/2 and m3 >= 0; got {tuple(margins)}')
        if scale <= 0 or num_classes < 2:
            raise ValueError(f'scale must be > 0 and num_classes >= 2; got scale={scale}, num_classes={num_classes}')
        self.scale, self.m2, self.m3 = float(scale), m2, m3
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim).normal_(0, 0.01))

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        """cos(theta) (N, num_classes) between normalised embeddings and class weights."""
        return F.linear(F.normalize(embeddings), F.normalize(self.weight)).clamp(-1.0, 1.0)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scaled logits (N, num_classes); with ``labels`` the target logits carry the margin (training)."""
        cos = self.cosine(embeddings)
        if labels is not None:
            if labels.min() < 0 or labels.max() >= cos.shape[1]:
                raise ValueError(f'labels must be in [0, {cos.shape[1] - 1}]; got {labels.min()}..{labels.max()}')
            target = cos.gather(1, labels[:, None])
            if self.m2 > 0:  # cos(theta + m2) through sin(theta), whose gradient stays finite at cos = +-1
                cos_m, sin_m = math.cos(self.m2), math.sin(self.m2)
                sin_theta = torch.sqrt((1.0 - target * target).clamp_min(1e-7))
                with_margin = torch.where(target > -cos_m,  # theta + m2 < pi
                                          target * cos_m - sin_theta * sin_m, target - sin_m * self.m2)
            else:
                with_margin = target
            cos = cos.scatter(1, labels[:, None], with_margin - self.m3)
        return cos * self.scale


@MODELS.register_module()
class ArcFaceHead(MarginHead):
    """ArcFace (Deng et al., 2019): additive angular margin m (0.5) on the target angle, scale s (64)."""

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0, margin: float = 0.5):
        super().__init__(embedding_dim, num_classes, scale, (1.0, margin, 0.0))


@MODELS.register_module()
class CosFaceHead(MarginHead):
    """CosFace (Wang et al., 2018): additive cosine margin m (0.35) on the target cosine, scale s (64)."""

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0, margin: float = 0.35):
        super().__init__(embedding_dim, num_classes, scale, (1.0, 0.0, margin))
