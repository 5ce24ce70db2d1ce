"""ActionDataPreprocessor: uint8 clips stacked and normalised per channel for NCTHW and NCHW batches."""
import pytest
import torch

from resbackbones.models import ActionDataPreprocessor

MEAN, STD = [100.0, 110.0, 120.0], [50.0, 60.0, 70.0]


@pytest.mark.parametrize('fmt, shape', [('NCTHW', (2, 3, 3, 4, 5, 6)), ('NCHW', (8, 3, 5, 6))])
def test_normalises_each_channel(fmt, shape):
    clips = [torch.randint(0, 256, shape, dtype=torch.uint8) for _ in range(2)]
    out = ActionDataPreprocessor(MEAN, STD, format_shape=fmt)(dict(inputs=clips, data_samples=[1, 2]))
    x = torch.stack(clips).float()
    channel_dim = x.dim() - (4 if fmt == 'NCTHW' else 3)
    for c in range(3):
        expected = (x.select(channel_dim, c) - MEAN[c]) / STD[c]
        torch.testing.assert_close(out['inputs'].select(channel_dim, c), expected)
    assert out['data_samples'] == [1, 2]


def test_to_rgb_swaps_channels_and_no_normalisation_is_a_float_cast():
    clip = torch.arange(3, dtype=torch.uint8).view(1, 3, 1, 1, 1).expand(1, 3, 2, 2, 2).contiguous()
    out = ActionDataPreprocessor(to_rgb=True, format_shape='NCTHW')(dict(inputs=[clip]))['inputs']
    assert out.dtype == torch.float32 and out[0, 0, :, 0, 0, 0].tolist() == [2.0, 1.0, 0.0]


@pytest.mark.parametrize('kwargs, inputs, message', [
    (dict(mean=MEAN, std=STD, format_shape='NCTHW'), [torch.zeros(1, 4, 2, 2, 2)], '4 channels at dim -4'),
    (dict(mean=MEAN, std=STD), [torch.zeros(8, 3, 2, 2), torch.zeros(8, 3, 4, 4)], 'differ in shape'),
    (dict(mean=MEAN, std=None), None, 'give mean and std together'),
    (dict(format_shape='NTCHW'), None, 'format_shape must be one of'),
])
def test_bad_input(kwargs, inputs, message):
    with pytest.raises(ValueError, match=message):
        ActionDataPreprocessor(**kwargs)(dict(inputs=inputs))
