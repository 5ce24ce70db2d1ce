"""Margin heads: each ArcFace rule equals insightface's own code (written out in tests/insightface_reference.py) in
logits and gradients; CosFace by hand; finite under bf16/fp16 autocast; bad settings and labels named."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from resbackbones.heads import ArcFaceHead, CosFaceHead, MarginHead, PartialFCHead, SoftmaxHead

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared insightface reference
from insightface_reference import insightface_arcface_2021, insightface_combined_margin  # noqa: E402


def _head(cls, angle: float, **kwargs):
    """Two classes in 2D: class 0 at ``angle`` from the x axis, class 1 on the y axis; scale 10."""
    head = cls(2, 2, scale=10.0, **kwargs)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[math.cos(angle), math.sin(angle)], [0.0, 3.0]]))  # norms do not matter
    return head


EMBEDDING = torch.tensor([[2.0, 0.0]])  # along x: theta_0 = angle, theta_1 = pi/2
TARGET = torch.tensor([0])


@pytest.mark.parametrize('cls, angle, kwargs, expected', [
    (ArcFaceHead, 0.6, {}, math.cos(0.6 + 0.5)),                                      # s * cos(theta + m)
    (ArcFaceHead, 2.9, {}, math.cos(2.9 + 0.5)),                                      # current: no fallback past pi
    (ArcFaceHead, 2.9, dict(fallback=True), math.cos(2.9) - math.sin(0.5) * 0.5),     # pre-2022: linear past pi
    (ArcFaceHead, 0.6, dict(fallback=True, exact_gradient=True), math.cos(0.6 + 0.5)),
    (CosFaceHead, 0.6, {}, math.cos(0.6) - 0.35),                                     # s * (cos(theta) - m)
])
def test_target_logit_carries_the_margin(cls, angle, kwargs, expected):
    logits = _head(cls, angle, **kwargs)(EMBEDDING, TARGET)
    torch.testing.assert_close(logits, torch.tensor([[10.0 * expected, 0.0]]), atol=1e-5, rtol=1e-5)


def _loss_and_grads(logits_of, embeddings, weight, labels):
    embeddings, weight = embeddings.clone().requires_grad_(True), weight.clone().requires_grad_(True)
    logits = logits_of(embeddings, weight)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return logits.detach(), embeddings.grad, weight.grad


LABELS = torch.tensor([0, 3, 5, 5, 1, 2])


@pytest.mark.parametrize('head_kwargs, reference', [
    (dict(margins=(1, 0.5, 0)), lambda cos, y: insightface_combined_margin(cos, y.view(-1), 64.0, 1.0, 0.5, 0.0)),
    (dict(margins=(1, 0, 0.4)), lambda cos, y: insightface_combined_margin(cos, y.view(-1), 64.0, 1.0, 0.0, 0.4)),
    (dict(margins=(1, 0.5, 0), fallback=True, exact_gradient=True),
     lambda cos, y: insightface_arcface_2021(cos, y.view(-1), 64.0, 0.5)),
    (dict(margins=(1, 0.5, 0), interclass_filtering_threshold=0.2),
     lambda cos, y: insightface_combined_margin(cos, y.view(-1), 64.0, 1.0, 0.5, 0.0, 0.2)),
    (dict(margins=(1, 0, 0.4), interclass_filtering_threshold=0.2),
     lambda cos, y: insightface_combined_margin(cos, y.view(-1), 64.0, 1.0, 0.0, 0.4, 0.2)),
])
def test_equals_insightfaces_code_in_logits_and_gradients(head_kwargs, reference):
    torch.manual_seed(0)
    head = MarginHead(8, 6, scale=64.0, **head_kwargs)
    embeddings = torch.randn(6, 8)
    with torch.no_grad():  # put some targets past pi - m so the fallback / no-fallback difference is exercised
        head.weight[LABELS[:2]] = -embeddings[:2] + 0.05 * torch.randn(2, 8)

    def theirs(e, w):
        cos = F.linear(F.normalize(e), F.normalize(w)).clamp(-1, 1)
        return reference(cos, LABELS)

    def ours(e, w):
        return torch.func.functional_call(head, {'weight': w}, (e, LABELS))

    got = _loss_and_grads(ours, embeddings, head.weight.detach(), LABELS)
    want = _loss_and_grads(theirs, embeddings, head.weight.detach(), LABELS)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=2e-4, rtol=2e-4)


def test_the_rules_differ_where_the_docs_say():
    """Past pi - m the default (no fallback) and the pre-2022 rule give different logits; the straight-through
    gradient differs from the exact one everywhere the margin applies."""
    embeddings = EMBEDDING.clone()
    assert not torch.allclose(_head(ArcFaceHead, 2.9)(embeddings, TARGET),
                              _head(ArcFaceHead, 2.9, fallback=True)(embeddings, TARGET))
    grads = []
    for exact in (False, True):
        e = torch.tensor([[2.0, 0.3]], requires_grad=True)
        F.cross_entropy(_head(ArcFaceHead, 0.6, exact_gradient=exact)(e, TARGET), TARGET).backward()
        grads.append(e.grad)
    assert not torch.allclose(*grads)


def test_without_labels_logits_are_scaled_cosines():
    logits = _head(ArcFaceHead, 0.6)(EMBEDDING)
    torch.testing.assert_close(logits, torch.tensor([[10.0 * math.cos(0.6), 0.0]]))


@pytest.mark.parametrize('kwargs', [{}, dict(fallback=True, exact_gradient=True)])
def test_gradient_is_finite_when_the_embedding_sits_on_its_class(kwargs):
    head = _head(ArcFaceHead, 0.0, **kwargs)
    embedding = EMBEDDING.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(head(embedding, TARGET), TARGET).backward()
    assert torch.isfinite(embedding.grad).all() and torch.isfinite(head.weight.grad).all()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('kwargs', [dict(margins=(1, 0.5, 0)), dict(margins=(1, 0.5, 0), exact_gradient=True,
                                                                        fallback=True), dict(margins=(1, 0, 0.35))])
def test_finite_under_autocast(dtype, kwargs):
    torch.manual_seed(0)
    head = MarginHead(16, 10, scale=64.0, **kwargs)
    embeddings = torch.randn(8, 16, requires_grad=True)
    labels = torch.arange(8)
    with torch.no_grad():  # targets on, against and across their class centres: cos = 1, -1, 0
        head.weight[:3] = torch.stack([embeddings[0], -embeddings[1], torch.zeros(16).index_fill(0, torch.tensor(0),
                                                                                                  1.0)])
    with torch.autocast('cpu', dtype=dtype):
        loss = F.cross_entropy(head(embeddings, labels), labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(embeddings.grad).all() and torch.isfinite(head.weight.grad).all()


@pytest.mark.parametrize('kwargs, message', [
    (dict(margins=(1.35, 0.0, 0.0)), 'margins must be'),
    (dict(margins=(1.0, -0.1, 0.0)), 'margins must be'),
    (dict(scale=0.0), 'scale must be finite and > 0'),
    (dict(num_classes=1), 'num_classes >= 2'),
    # NaN and inf passed the comparisons and made the loss NaN
    (dict(scale=float('nan')), 'scale must be finite and > 0'),
    (dict(scale=float('inf')), 'scale must be finite and > 0'),
    (dict(margins=(1.0, 0.0, float('nan'))), 'margins must be'),
    (dict(margins=(1.0, 0.0, float('inf'))), 'margins must be'),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarginHead(**{'embedding_dim': 4, 'num_classes': 3, **kwargs})


@pytest.mark.parametrize('head', [_head(ArcFaceHead, 0.6), SoftmaxHead(2, 2)])
def test_labels_out_of_range_are_named(head):
    with pytest.raises(ValueError, match=r'labels must be in \[0, 1\] \(num_classes=2\); got 0..2'):
        head(torch.randn(2, 2), torch.tensor([0, 2]))


@pytest.mark.parametrize('head', [_head(ArcFaceHead, 0.6), SoftmaxHead(2, 2), PartialFCHead(2, 2)])
@pytest.mark.parametrize('labels', [torch.tensor([1]), torch.tensor([0, 1, 1]), torch.tensor([[0, 1]])])
def test_labels_must_be_one_per_embedding(head, labels):
    # Partial FC scored the unlabelled row as a target probability of 0 and returned a loss (67.18) without a word
    with pytest.raises(ValueError, match=r'labels must be one per embedding: shape \(2,\) for 2 embeddings'):
        head.loss(torch.randn(2, 2), labels)


def test_interclass_filtering_zeroes_only_non_target_cosines_above_the_threshold():
    torch.manual_seed(0)
    head = MarginHead(8, 6, scale=1.0, margins=(1, 0.0, 0.0), interclass_filtering_threshold=0.2)
    embeddings = torch.randn(6, 8)
    cos = head.cosine(embeddings)
    filtered = head(embeddings, LABELS)
    target = torch.zeros_like(cos, dtype=torch.bool)
    target[torch.arange(6), LABELS] = True
    dirty = (cos > 0.2) & ~target
    assert dirty.any() and (filtered[dirty] == 0).all()  # the case is exercised
    torch.testing.assert_close(filtered[~dirty], cos[~dirty])  # targets above the threshold are kept
    with pytest.raises(ValueError, match='interclass_filtering_threshold must be 0'):
        MarginHead(8, 6, interclass_filtering_threshold=1.5)
