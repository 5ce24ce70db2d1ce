"""ActionDataPreprocessor: uint8 clips stacked and normalised per channel for NCTHW, NCHW and MIX2d3d batches."""
import pytest
import torch

from resbackbones.models import ActionDataPreprocessor

MEAN, STD = [100.0, 110.0, 120.0], [50.0, 60.0, 70.0]


@pytest.mark.parametrize('fmt, shape, clip_axes', [
    ('NCTHW', (2, 3, 3, 4, 5, 6), 4), ('NCHW', (8, 3, 5, 6), 3),
    ('MIX2d3d', (2, 3, 3, 4, 5, 6), 4), ('MIX2d3d', (3, 5, 6), 3),  # OmniSource: clips, or (N, C, H, W) images
])
def test_normalises_each_channel(fmt, shape, clip_axes):
    clips = [torch.randint(0, 256, shape, dtype=torch.uint8) for _ in range(2)]
    out = ActionDataPreprocessor(MEAN, STD, format_shape=fmt)(dict(inputs=clips, data_samples=[1, 2]))
    x = torch.stack(clips).float()
    channel_dim = x.dim() - clip_axes
    for c in range(3):
        expected = (x.select(channel_dim, c) - MEAN[c]) / STD[c]
        torch.testing.assert_close(out['inputs'].select(channel_dim, c), expected)
    assert out['data_samples'] == [1, 2]


def test_a_tuple_of_batches_gives_a_tuple():
    batches = (dict(inputs=[torch.zeros(3, 2, 2, dtype=torch.uint8)]), dict(inputs=[torch.zeros(1, 3, 2, 2, 2)]))
    out = ActionDataPreprocessor(MEAN, STD, format_shape='MIX2d3d')(batches)
    assert isinstance(out, tuple) and out[0]['inputs'].shape == (1, 3, 2, 2) and out[1]['inputs'].dim() == 6
    torch.testing.assert_close(out[0]['inputs'][0, :, 0, 0], -torch.tensor(MEAN) / torch.tensor(STD))


def test_to_rgb_swaps_channels_and_no_normalisation_is_a_float_cast():
    clip = torch.arange(3, dtype=torch.uint8).view(1, 3, 1, 1, 1).expand(1, 3, 2, 2, 2).contiguous()
    out = ActionDataPreprocessor(to_rgb=True, format_shape='NCTHW')(dict(inputs=[clip]))['inputs']
    assert out.dtype == torch.float32 and out[0, 0, :, 0, 0, 0].tolist() == [2.0, 1.0, 0.0]


@pytest.mark.parametrize('kwargs, inputs, message', [
    (dict(mean=MEAN, std=STD, format_shape='NCTHW'), [torch.zeros(1, 4, 2, 2, 2)], '4 channels at dim -4'),
    (dict(mean=MEAN, std=STD), [torch.zeros(8, 3, 2, 2), torch.zeros(8, 3, 4, 4)], 'differ in shape'),
    (dict(mean=MEAN, std=None), None, 'give mean and std together'),
    (dict(format_shape='NTCHW'), None, 'format_shape must be one of'),
    # PoseC3D's RGB + pose batches with the one-modality preprocessor: a bare AttributeError ('dict' has no 'dim')
    (dict(mean=MEAN, std=STD, format_shape='NCTHW'),
     [dict(imgs=torch.zeros(1, 3, 2, 2, 2), heatmap_imgs=torch.zeros(1, 17, 2, 2, 2))],
     r"inputs are a dict of modalities \(\['heatmap_imgs', 'imgs'\]\).*MultiModalDataPreprocessor"),
])
def test_bad_input(kwargs, inputs, message):
    with pytest.raises(ValueError, match=message):
        ActionDataPreprocessor(**kwargs)(dict(inputs=inputs))
