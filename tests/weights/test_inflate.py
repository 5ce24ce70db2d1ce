"""2D -> 3D kernel inflation: shapes, the time-sum invariant, which shapes qualify, and bad inputs."""
from __future__ import annotations

import pytest
import torch

from resbackbones.weights.inflate import can_inflate, inflate_conv


@pytest.mark.parametrize('frames', [1, 3, 5])
def test_inflated_kernel_sums_over_time_to_the_2d_kernel(frames):
    weight = torch.randn(8, 4, 3, 3)
    inflated = inflate_conv(weight, frames)
    assert inflated.shape == (8, 4, frames, 3, 3)
    torch.testing.assert_close(inflated.sum(dim=2), weight)
    assert torch.equal(inflated[:, :, 0], inflated[:, :, -1])


@pytest.mark.parametrize('ckpt, model, expected', [
    ((8, 3, 7, 7), (8, 3, 5, 7, 7), True),
    ((8, 3, 7, 7), (8, 1, 5, 7, 7), True),      # input channels are adapted afterwards
    ((8, 3, 7, 7), (16, 3, 5, 7, 7), False),    # another width
    ((8, 3, 7, 7), (8, 3, 5, 3, 3), False),     # another spatial kernel
    ((8, 3, 3, 3, 3), (8, 3, 3, 3, 3), False),  # already 3D
    ((8,), (8,), False),                        # norm tensors need nothing
])
def test_which_shapes_inflate(ckpt, model, expected):
    assert can_inflate(torch.Size(ckpt), torch.Size(model)) is expected


@pytest.mark.parametrize('weight, frames, message', [
    (torch.zeros(8, 3, 3), 3, r'needs a 2D conv kernel \(out, in, kh, kw\); got shape \(8, 3, 3\)'),
    (torch.zeros(8, 3, 3, 3), 0, 'frames must be an integer >= 1; got 0'),
])
def test_bad_inputs_are_named(weight, frames, message):
    with pytest.raises(ValueError, match=message):
        inflate_conv(weight, frames)
