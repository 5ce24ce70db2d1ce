"""TemporalHead: shapes, clips kept apart, order awareness, and learning what average consensus cannot."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones.heads import TemporalHead

KINDS = [dict(kind='lstm'), dict(kind='lstm', bidirectional=True, num_layers=2), dict(kind='transformer')]


@pytest.mark.parametrize('kwargs', KINDS, ids=lambda k: '-'.join(map(str, k.values())))
@torch.no_grad()
def test_clips_are_classified_apart_and_in_order(kwargs):
    head = TemporalHead(num_classes=5, in_channels=16, num_segments=4, hidden_channels=32, **kwargs).eval()
    x = torch.randn(3 * 4, 16)
    logits = head(x)
    assert logits.shape == (3, 5)
    changed = x.clone()
    changed[0] += 1  # first frame of clip 0
    moved = head(changed)
    assert not torch.allclose(moved[0], logits[0]) and torch.equal(moved[1:], logits[1:])
    reversed_clips = x.view(3, 4, 16).flip(1).reshape(12, 16)
    assert not torch.allclose(head(reversed_clips), logits, atol=1e-4)  # order matters, unlike averaging
    assert head(x[:6], num_segments=2).shape == (3, 5)  # another clip length at call time


def _ramps(n: int, frames: int, direction: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips whose frame features move along ``direction`` over time (label 0) or back (label 1): the same set of
    frames either way, so the frame average carries no label."""
    labels = torch.randint(0, 2, (n,), generator=gen)
    t = torch.linspace(-1, 1, frames)
    steps = torch.where(labels[:, None] == 0, t, t.flip(0))
    feats = steps[:, :, None] * direction + 0.3 * torch.randn(n, frames, direction.numel(), generator=gen)
    return feats.reshape(n * frames, -1), labels


def _train(model: nn.Module, frames: int, direction: torch.Tensor) -> float:
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(120):
        x, y = _ramps(32, frames, direction, gen)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = _ramps(400, frames, direction, gen)
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).float().mean())


class AverageConsensus(nn.Module):
    """TSN's consensus: a linear classifier on every frame, logits averaged over the clip."""

    def __init__(self, channels: int, frames: int):
        super().__init__()
        self.fc, self.frames = nn.Linear(channels, 2), frames

    def forward(self, x):
        return self.fc(x).view(-1, self.frames, 2).mean(dim=1)


@pytest.mark.parametrize('kind', ['lstm', 'transformer'])
def test_it_learns_the_direction_of_time_that_averaging_cannot(kind):
    torch.manual_seed(0)
    direction = nn.functional.normalize(torch.randn(8), dim=0)
    head = TemporalHead(num_classes=2, in_channels=8, num_segments=6, kind=kind, hidden_channels=32)
    assert _train(head, 6, direction) >= 0.95
    assert _train(AverageConsensus(8, 6), 6, direction) <= 0.6


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind='gru'), 'kind must be one of'),
    (dict(num_segments=0), 'num_segments must be an integer >= 1'),
    (dict(kind='transformer', hidden_channels=30), 'num_heads=4 must divide hidden_channels=30'),
    (dict(kind='transformer', bidirectional=True), "bidirectional is for kind='lstm'"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TemporalHead(**{**dict(num_classes=2, in_channels=8, num_segments=4), **kwargs})


@pytest.mark.parametrize('x, segments, message', [
    (torch.randn(10, 8), None, r'num_segments=4; got shape \(10, 8\)'),
    (torch.randn(10, 8, 2, 2), None, r'num_segments=4; got shape \(10, 8\)'),  # maps are pooled first
    (torch.randn(12, 8), 6, 'built for up to 4 frames; got 6'),
])
def test_bad_inputs_are_named(x, segments, message):
    head = TemporalHead(num_classes=2, in_channels=8, num_segments=4, kind='transformer', hidden_channels=8)
    with pytest.raises(ValueError, match=message):
        head(x, num_segments=segments)


@pytest.mark.parametrize('kind', ['lstm', 'transformer'])
def test_each_view_of_a_test_video_is_its_own_sequence_in_recognizer2d(kind):
    # Recognizer2D's num_segs (every frame of the video: clips x crops) ran the views as one LSTM sequence
    from resbackbones.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
                              cls_head=dict(type='TemporalHead', num_classes=5, num_segments=4, kind=kind,
                                            hidden_channels=32))).eval()
    a, b = torch.rand(1, 4, 3, 32, 32), torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        both = model.tensor(torch.cat([a, b], 1))
        each = (model.tensor(a) + model.tensor(b)) / 2
    torch.testing.assert_close(both, each, rtol=0, atol=1e-5)
