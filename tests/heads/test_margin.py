"""Margin heads: the ArcFace / CosFace target logits by hand, the ArcFace fallback past pi, finite gradients."""
from __future__ import annotations

import math

import pytest
import torch

from resbackbones.heads import ArcFaceHead, CosFaceHead, MarginHead


def _head(cls, angle: float, **kwargs):
    """Two classes in 2D: class 0 at ``angle`` from the x axis, class 1 on the y axis; scale 10."""
    head = cls(2, 2, scale=10.0, **kwargs)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[math.cos(angle), math.sin(angle)], [0.0, 3.0]]))  # norms do not matter
    return head


EMBEDDING = torch.tensor([[2.0, 0.0]])  # along x: theta_0 = angle, theta_1 = pi/2
TARGET = torch.tensor([0])


@pytest.mark.parametrize('cls, angle, expected', [
    (ArcFaceHead, 0.6, math.cos(0.6 + 0.5)),                            # s * cos(theta + m)
    (ArcFaceHead, 2.9, math.cos(2.9) - math.sin(0.5) * 0.5),            # theta + m > pi: linear continuation
    (CosFaceHead, 0.6, math.cos(0.6) - 0.35),                           # s * (cos(theta) - m)
])
def test_target_logit_carries_the_margin(cls, angle, expected):
    logits = _head(cls, angle)(EMBEDDING, TARGET)
    torch.testing.assert_close(logits, torch.tensor([[10.0 * expected, 0.0]]), atol=1e-5, rtol=1e-5)


def test_without_labels_logits_are_scaled_cosines():
    logits = _head(ArcFaceHead, 0.6)(EMBEDDING)
    torch.testing.assert_close(logits, torch.tensor([[10.0 * math.cos(0.6), 0.0]]))


def test_gradient_is_finite_when_the_embedding_sits_on_its_class():
    head = _head(ArcFaceHead, 0.0)
    embedding = EMBEDDING.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(head(embedding, TARGET), TARGET).backward()
    assert torch.isfinite(embedding.grad).all() and torch.isfinite(head.weight.grad).all()


@pytest.mark.parametrize('kwargs, message', [
    (dict(margins=(1.35, 0.0, 0.0)), 'margins must be'),
    (dict(margins=(1.0, -0.1, 0.0)), 'margins must be'),
    (dict(scale=0.0), 'scale must be > 0'),
    (dict(num_classes=1), 'num_classes >= 2'),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarginHead(**{'embedding_dim': 4, 'num_classes': 3, **kwargs})


def test_labels_out_of_range_are_named():
    with pytest.raises(ValueError, match=r'labels must be in \[0, 1\]; got 0..2'):
        _head(ArcFaceHead, 0.6)(torch.randn(2, 2), torch.tensor([0, 2]))
