"""Temporal interlace: mmcv's tin_shift in torch, the fractional shift, and the TIN module's contract."""
import pytest
import torch

from resbackbones.layers.temporal_interlace import TemporalInterlace, linear_sampler, tin_shift


def test_tin_shift_moves_each_channel_group_by_its_own_frames():
    data = torch.arange(1, 5.).view(1, 4, 1, 1).repeat(1, 1, 4, 2)  # frame t holds t + 1, 4 channels
    out = tin_shift(data, torch.tensor([[1, -2]]))  # channels 0-1 move one frame later, 2-3 two frames earlier
    assert out[0, :, 0, 0].tolist() == [0, 1, 2, 3] and out[0, :, 1, 1].tolist() == [0, 1, 2, 3]
    assert out[0, :, 2, 0].tolist() == [3, 4, 0, 0] and out[0, :, 3, 1].tolist() == [3, 4, 0, 0]


def test_linear_sampler_mixes_the_two_whole_shifts_around_an_offset():
    data = torch.randn(2, 5, 4, 3, 3)
    whole = torch.tensor([[1., -1., 0., 2.], [0., 0., -2., 1.]])
    flat = data.view(2, 5, 4, 9)
    torch.testing.assert_close(linear_sampler(data, whole), tin_shift(flat, whole).view_as(data))
    halfway = linear_sampler(data, whole + 0.25)
    expected = 0.75 * tin_shift(flat, whole) + 0.25 * tin_shift(flat, whole + 1)
    torch.testing.assert_close(halfway, expected.view_as(data))


def test_interlace_changes_only_its_channels_and_learns_its_offsets():
    layer = TemporalInterlace(16, num_segments=4, shift_div=2)
    frames = torch.randn(8, 16, 5, 5, requires_grad=True)
    out = layer(frames)
    assert torch.equal(out[:, 8:], frames[:, 8:]) and not torch.allclose(out[:, :8], frames[:, :8])
    out[:, :8].square().sum().backward()
    assert layer.offset_net.fc2.weight.grad.abs().sum() > 0  # through the fractional mixing weights
    assert layer.weight_net.conv.weight.grad.abs().sum() > 0


def test_initial_biases_are_mmaction2s():
    layer = TemporalInterlace(8, num_segments=4, shift_div=1)
    assert torch.allclose(layer.offset_net.fc2.bias, torch.full((2,), 0.5108))
    assert layer.weight_net.conv.bias.abs().sum() == 0


@pytest.mark.parametrize('frames, message', [
    (torch.randn(6, 8, 2, 2), r'num_segments=4; got shape \(6, 8, 2, 2\)'),
    (torch.randn(8, 8, 2), 'TemporalInterlace takes'),
])
def test_bad_input_is_named(frames, message):
    with pytest.raises(ValueError, match=message):
        TemporalInterlace(8, num_segments=4, shift_div=1)(frames)
