"""Temporal shift and pool: index for index as mmaction2's formula (written out in tests/mmaction2_reference.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from resbackbones.layers.temporal_shift import TemporalPool, TemporalShift, temporal_shift

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402


@pytest.mark.parametrize('clips, segments, channels, shift_div', [(2, 8, 16, 8), (3, 5, 12, 4), (1, 3, 10, 3)])
def test_every_element_moves_as_mmaction2_moves_it(clips, segments, channels, shift_div):
    x = torch.arange(clips * segments * channels * 6, dtype=torch.float32).view(clips * segments, channels, 2, 3)
    out = temporal_shift(x, segments, shift_div)
    assert torch.equal(out, ref.temporal_shift(x, segments, shift_div))
    fold = channels // shift_div
    v, o = x.view(clips, segments, channels, 2, 3), out.view(clips, segments, channels, 2, 3)
    for n in range(clips):
        for t in range(segments):
            for c in range(channels):
                if c < fold:  # one frame back: frame t reads t + 1, the last frame reads zeros
                    want = v[n, t + 1, c] if t + 1 < segments else torch.zeros(2, 3)
                elif c < 2 * fold:  # one frame forward: frame t reads t - 1, the first reads zeros
                    want = v[n, t - 1, c] if t > 0 else torch.zeros(2, 3)
                else:
                    want = v[n, t, c]
                assert torch.equal(o[n, t, c], want), (n, t, c)


def test_the_module_shifts_and_is_differentiable():
    x = torch.randn(16, 16, 4, 4, requires_grad=True)
    out = TemporalShift(16, num_segments=8, shift_div=8)(x)
    out.sum().backward()
    assert torch.equal(out, ref.temporal_shift(x.detach(), 8, 8))
    assert float(x.grad.sum()) == 16 * 16 * 16 - 2 * 2 * 2 * 16  # two channels per clip lose one frame each way


def test_temporal_pool_is_mmaction2s():
    x = torch.randn(2 * 5, 4, 3, 3)
    out = TemporalPool(4, num_segments=5)(x)
    clips = x.view(2, 5, 4, 3, 3).transpose(1, 2)
    want = torch.nn.functional.max_pool3d(clips, (3, 1, 1), (2, 1, 1), (1, 0, 0)).transpose(1, 2).reshape(6, 4, 3, 3)
    assert out.shape == (6, 4, 3, 3) and torch.equal(out, want)


@pytest.mark.parametrize('build, x, message', [
    (lambda: TemporalShift(16, num_segments=8), torch.randn(12, 16, 2, 2), r'num_segments=8; got shape \(12, 16'),
    (lambda: TemporalShift(16, num_segments=2), torch.randn(2, 16, 2, 2, 2), r'got shape \(2, 16, 2, 2, 2\)'),
    (lambda: TemporalPool(16, num_segments=4), torch.randn(6, 16, 2, 2), 'TemporalPool takes'),
])
def test_frames_that_are_not_whole_clips_are_refused(build, x, message):
    with pytest.raises(ValueError, match=message):
        build()(x)


@pytest.mark.parametrize('kwargs, message', [
    (dict(in_channels=4, shift_div=8), 'would move fewer than one channel each way; use shift_div <= 4'),
    (dict(in_channels=16, num_segments=0), 'num_segments must be an integer >= 1'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TemporalShift(**kwargs)
