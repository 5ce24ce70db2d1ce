"""Additive angular / cosine margin heads for face recognition (ArcFace, CosFace, and insightface's combination).

The head holds one weight vector per identity. Logits are s * cos(theta_j) between the L2-normalised embedding and
weights, except for the true identity y during training, whose logit is s * (cos(theta_y + m2) - m3): ArcFace is
(m1, m2, m3) = (1, 0.5, 0), CosFace (1, 0, 0.35).

Two rules for the angular margin m2, both insightface's (arcface_torch ``losses.py``):

- default (insightface since December 2022, ``CombinedMarginLoss``): cos(theta_y + m2) for every theta_y, also past
  pi - m2, and the margin is passed straight through: the gradient is that of cos(theta_y), none through the arccos.
- ``fallback=True``: past theta_y + m2 = pi (where cos stops decreasing) the logit continues linearly as
  cos(theta_y) - sin(m2) * m2 (insightface before December 2022).
- ``exact_gradient=True``: differentiate cos(theta_y + m2) = cos * cos(m2) - sin * sin(m2) exactly (insightface
  before December 2022), with sin(theta) = sqrt(1 - cos^2) kept away from 0 so the gradient stays finite.

``interclass_filtering_threshold`` (arcface_torch's option for noisy web-scale sets such as WebFace42M): a non-target
cosine above it is taken for a mislabelled duplicate identity and zeroed (no logit push, no gradient) before the
margin is applied.

``margin_logits`` is the rule alone, shared by the full head here and the sharded ``PartialFCHead``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS


def margin_logits(cos: torch.Tensor, labels: torch.Tensor, scale: float, m2: float, m3: float,
                  fallback: bool = False, exact_gradient: bool = False,
                  interclass_filtering_threshold: float = 0.0) -> torch.Tensor:
    """s * cos with the margin on the target column of each row; rows whose label is -1 carry none.

    Args:
        cos: (N, C) cosines in [-1, 1]. labels: (N,) target column per row, or -1 (target held elsewhere, as in
            Partial FC). The margin is computed in float32, so bf16/fp16 cosines under autocast stay finite.
        interclass_filtering_threshold: > 0 zeroes the non-target cosines above it (module docstring).
    """
    cos = cos.float()
    rows = torch.nonzero(labels >= 0).view(-1)
    cols = labels[rows]
    if interclass_filtering_threshold > 0:
        with torch.no_grad():
            keep = cos <= interclass_filtering_threshold
            keep[rows, cols] = True  # a row's own identity is never filtered
        cos = cos * keep
    target = cos[rows, cols]
    if m2 > 0:
        if exact_gradient:
            sin_theta = torch.sqrt((1.0 - target * target).clamp_min(1e-7))
            shifted = target * math.cos(m2) - sin_theta * math.sin(m2)
        else:
            shifted = target + (torch.cos(torch.arccos(target.detach().clamp(-1.0, 1.0)) + m2) - target).detach()
        if fallback:  # theta + m2 > pi, i.e. cos(theta) < cos(pi - m2): continue linearly
            shifted = torch.where(target > math.cos(math.pi - m2), shifted, target - math.sin(math.pi - m2) * m2)
        target = shifted
    cos = cos.index_put((rows, cols), target - m3)
    return cos * scale


@MODELS.register_module()
class MarginHead(nn.Module):
    """Cosine classifier with a combined angular/additive margin on the target class.

    Args:
        embedding_dim: width of the embeddings. num_classes: number of identities.
        scale: s, the logit scale (64 in ArcFace). margins: (m1, m2, m3) as above; m1 must be 1 (the multiplicative
            SphereFace margin is not supported).
        fallback / exact_gradient: insightface's pre-December-2022 ArcFace rules (module docstring); default off.
        interclass_filtering_threshold: 0 (off) or a cosine in (0, 1) above which non-target classes are
            filtered (module docstring).
    """

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0,
                 margins: tuple[float, float, float] = (1.0, 0.5, 0.0), fallback: bool = False,
                 exact_gradient: bool = False, interclass_filtering_threshold: float = 0.0):
        super().__init__()
        self.scale, self.m2, self.m3 = check_margins(scale, margins, num_classes)
        self.fallback, self.exact_gradient = bool(fallback), bool(exact_gradient)
        self.filter_threshold = check_filter_threshold(interclass_filtering_threshold)
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim).normal_(0, 0.01))

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        """cos(theta) (N, num_classes) between normalised embeddings and class weights."""
        return F.linear(F.normalize(embeddings), F.normalize(self.weight)).clamp(-1.0, 1.0)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scaled logits (N, num_classes); with ``labels`` the target logits carry the margin (training)."""
        cos = self.cosine(embeddings)
        if labels is None:
            return cos * self.scale
        check_labels(labels, cos.shape[1], len(embeddings))
        return margin_logits(cos, labels, self.scale, self.m2, self.m3, self.fallback, self.exact_gradient,
                             self.filter_threshold)

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the margin logits (FaceRecognizer calls this; PartialFCHead has its own)."""
        return F.cross_entropy(self(embeddings, labels), labels)


def check_margins(scale: float, margins, num_classes: int) -> tuple[float, float, float]:
    """(scale, m2, m3) as floats; ValueError naming the bad setting."""
    m1, m2, m3 = (float(m) for m in margins)
    # NaN and inf pass every comparison below as False (or True): the loss came out NaN
    if m1 != 1.0 or not 0 <= m3 < math.inf or not 0 <= m2 < math.pi / 2:
        raise ValueError(f'margins must be (1, m2, m3) with 0 <= m2 < pi/2 and finite m3 >= 0; got {tuple(margins)}')
    if not 0 < scale < math.inf or num_classes < 2:
        raise ValueError(f'scale must be finite and > 0, num_classes >= 2; got scale={scale}, '
                         f'num_classes={num_classes}')
    return float(scale), m2, m3


def check_filter_threshold(threshold: float) -> float:
    """The inter-class filtering threshold as a float: 0 (off) or a cosine in (0, 1)."""
    if not (threshold == 0 or 0 < threshold < 1):
        raise ValueError(f'interclass_filtering_threshold must be 0 (off) or a cosine in (0, 1); got {threshold!r}')
    return float(threshold)


def check_labels(labels: torch.Tensor, num_classes: int, rows: int | None = None) -> None:
    """ValueError when a label is outside [0, num_classes - 1] (a label >= num_classes is a config mistake), or when
    ``labels`` is not one label per embedding row (``rows``): Partial FC scored unlabelled rows without a word."""
    if rows is not None and tuple(labels.shape) != (rows,):
        raise ValueError(f'labels must be one per embedding: shape ({rows},) for {rows} embeddings; got '
                         f'{tuple(labels.shape)}')
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'labels must be in [0, {num_classes - 1}] (num_classes={num_classes}); got '
                         f'{int(labels.min())}..{int(labels.max())}: is num_classes the identity count of the data?')


@MODELS.register_module()
class ArcFaceHead(MarginHead):
    """ArcFace (Deng et al., 2019): additive angular margin m (0.5) on the target angle, scale s (64)."""

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0, margin: float = 0.5,
                 fallback: bool = False, exact_gradient: bool = False):
        super().__init__(embedding_dim, num_classes, scale, (1.0, margin, 0.0), fallback, exact_gradient)


@MODELS.register_module()
class CosFaceHead(MarginHead):
    """CosFace (Wang et al., 2018): additive cosine margin m (0.35) on the target cosine, scale s (64)."""

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0, margin: float = 0.35):
        super().__init__(embedding_dim, num_classes, scale, (1.0, 0.0, margin))


@MODELS.register_module()
class SoftmaxHead(nn.Module):
    """A plain linear softmax classifier over the embedding (no normalisation, no margin): the control that the
    margin heads are compared with in the open-set demo (insightface's 'softmax' baseline)."""

    def __init__(self, embedding_dim: int, num_classes: int):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2; got {num_classes}')
        self.fc = nn.Linear(embedding_dim, num_classes)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (N, num_classes); ``labels`` are only checked (there is no margin to apply)."""
        if labels is not None:
            check_labels(labels, self.fc.out_features, len(embeddings))
        return self.fc(embeddings)

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(embeddings, labels), labels)
