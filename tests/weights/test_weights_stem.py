"""Input-channel adaptation of the first conv (classic and deep stem)."""
from __future__ import annotations

import pytest
import torch

from resbackbones.weights import adapt_input_conv, load_pretrained


@pytest.mark.parametrize('name, first_conv', [('resnet18', 'conv1'), ('resnet50c', 'stem.0')])
def test_grey_model_equals_rgb_model_on_replicated_grey(name, first_conv, tiny_backbone):
    rgb = tiny_backbone(name)
    grey = tiny_backbone(name, seed=2, in_channels=1)
    report = load_pretrained(grey, rgb.state_dict())
    assert report.adapted == [f'{first_conv}.weight: 3 -> 1 input channels (summed over RGB)']
    image = torch.randn(2, 1, 64, 64)
    with torch.no_grad():
        ours, reference = grey(image), rgb(image.expand(-1, 3, -1, -1))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(ours, reference))


def test_four_channels_repeat_rgb_and_rescale(tiny_backbone, image):
    rgb = tiny_backbone()
    rgbd = tiny_backbone(seed=2, in_channels=4)
    report = load_pretrained(rgbd, rgb.state_dict())
    w = rgb.conv1.weight
    assert torch.allclose(rgbd.conv1.weight, torch.cat([w, w[:, :1]], dim=1) * 0.75)
    assert 'RGB repeated cyclically, scaled by 3/4' in str(report)
    # a 4th channel equal to R, with R scaled by 1/2, reproduces the RGB model: same weights, same sum
    x = torch.cat([image[:, :1] / 2, image[:, 1:], image[:, :1] / 2], dim=1)
    with torch.no_grad():
        assert torch.allclose(rgbd.conv1(x), rgb.conv1(image) * 0.75, atol=1e-5)


@pytest.mark.parametrize('in_channels', [1, 2, 3, 4, 7])
def test_adapt_input_conv_rule(in_channels):
    weight = torch.randn(8, 3, 3, 3)
    adapted = adapt_input_conv(weight, in_channels)
    if in_channels == 1:
        expected = weight.sum(1, keepdim=True)
    else:  # channel c takes RGB channel c % 3, scaled by 3/N
        expected = torch.stack([weight[:, c % 3] * 3 / in_channels for c in range(in_channels)], dim=1)
    assert adapted.shape == (8, in_channels, 3, 3)
    assert torch.allclose(adapted, expected, atol=1e-6)


def test_adapt_input_conv_keeps_dtype():
    assert adapt_input_conv(torch.randn(4, 3, 3, 3).half(), 2).dtype == torch.float16


@pytest.mark.parametrize('weight, in_channels, match', [
    (torch.zeros(8, 1, 3, 3), 4, r'needs an RGB kernel \(out, 3, ...\) or a single-channel 3D one .*; got shape \(8, 1, 3, 3\)'),
    (torch.zeros(8, 3, 3, 3), 0, 'in_channels must be an integer >= 1; got 0'),
])
def test_adapt_input_conv_rejects_bad_inputs(weight, in_channels, match):
    with pytest.raises(ValueError, match=match):
        adapt_input_conv(weight, in_channels)


def test_grey_checkpoint_into_rgb_model_is_a_shape_error(tiny_backbone):
    grey = tiny_backbone(in_channels=1)
    with pytest.raises(ValueError, match=r'conv1.weight: checkpoint \(8, 1, 7, 7\) vs model \(8, 3, 7, 7\)'):
        load_pretrained(tiny_backbone(seed=2), grey.state_dict())


def test_grey_2d_checkpoint_into_an_rgb_video_model_is_a_shape_error_too(tiny_backbone):
    # inflated first, the grey 2D kernel passed as MedicalNet's single-channel 3D one and was repeated / 3
    from resbackbones.registry import MODELS
    video = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, pretrained2d=False))
    with pytest.raises(ValueError, match=r'conv1.weight: checkpoint \(8, 1, 3, 7, 7\) vs model \(8, 3, 3, 7, 7\)'):
        load_pretrained(video, tiny_backbone(in_channels=1).state_dict())
