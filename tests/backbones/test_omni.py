"""OmniResNet: SlowOnly on the core, whose image path is the clip path on a clip in which nothing moves."""
import pytest
import torch
from torch import nn

from resbackbones.backbones.omni import still_image_tensors
from resbackbones.registry import MODELS

TINY = dict(type='OmniResNet', layers=(1, 1, 1, 1), base_channels=8)


def tiny_omni(randomise) -> nn.Module:
    return randomise(MODELS.build(TINY))


@torch.no_grad()
def test_an_image_gives_the_middle_frame_of_its_still_clip(randomise):
    """Stages 3-4 hold one 3-tap conv each, so the middle of a 9-frame still clip never sees the zero padding: its
    features are those of a clip that goes on for ever, which the image path must give."""
    model = tiny_omni(randomise)
    image = torch.rand(2, 3, 32, 32)
    clip = image[:, :, None].expand(-1, -1, 9, -1, -1)
    torch.testing.assert_close(model(image)[0], model(clip)[0][:, :, 4], rtol=1e-4, atol=1e-5)
    assert model(image)[0].shape == (2, 256, 1, 1)


def test_training_on_images_keeps_the_running_statistics_and_trains_every_tap(randomise):
    model = tiny_omni(randomise).train()
    norm, conv = model.layer3[0].bn1, model.layer3[0].conv1
    before = norm.running_mean.clone()
    model(torch.rand(2, 3, 32, 32))[0].square().mean().backward()
    torch.testing.assert_close(norm.running_mean, before, rtol=0, atol=0)  # images leave the video statistics
    taps = conv.weight.grad.unbind(dim=2)
    assert conv.weight.shape[2] == 3 and taps[0].abs().sum() > 0
    torch.testing.assert_close(taps[0], taps[1])  # every tap gets the sum's gradient
    torch.testing.assert_close(taps[1], taps[2])
    model(torch.rand(2, 3, 4, 32, 32))
    assert not torch.equal(norm.running_mean, before)  # clips do move them


@torch.no_grad()
def test_an_inflated_2d_checkpoint_gives_the_2d_network_on_images(tmp_path, randomise):
    """pretrain_2d inflates each kernel over its taps divided by their number; the image path sums them back."""
    resnet2d = randomise(MODELS.build(dict(type='ResNet', depth=50, base_channels=8, out_indices=(3,))))
    path = tmp_path / 'resnet50_2d.pth'
    torch.save(resnet2d.state_dict(), path)
    omni = MODELS.build(dict(type='OmniResNet', base_channels=8, pretrain_2d=str(path)))
    omni.init_weights()
    image = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(omni.eval()(image)[0], resnet2d(image)[0], rtol=1e-4, atol=1e-5)


def test_mmaction2s_names_and_size():
    model = MODELS.build(dict(type='OmniResNet'))
    keys = model.state_dict()
    assert {'conv1.weight', 'bn1.running_var', 'layer1.0.downsample.0.weight', 'layer4.2.bn3.weight'} <= set(keys)
    assert keys['layer3.0.conv1.weight'].shape[2:] == (3, 1, 1) and keys['layer2.0.conv1.weight'].shape[2:] == (1,) * 3
    assert sum(p.numel() for p in model.parameters()) == 31_634_496  # counted on mmaction2's own OmniResNet
    assert model.bn1.momentum == 0.01


@pytest.mark.parametrize('kwargs, match', [
    (dict(depth=50), 'layers'),
    (dict(pretrain_2d='a.pth', pretrained='b.pth'), 'not both'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(dict(type='OmniResNet', **kwargs))


def test_inputs_of_another_rank_are_refused(randomise):
    with pytest.raises(ValueError, match=r'\(N, C, H, W\) images; got shape \(3, 32, 32\)'):
        tiny_omni(randomise)(torch.rand(3, 32, 32))


def test_an_off_centre_temporal_padding_is_refused():
    conv = nn.Sequential(nn.Conv3d(3, 4, (3, 1, 1), padding=(0, 0, 0)))
    with pytest.raises(ValueError, match=r"0: a still image needs .* padding \(0, 0, 0\)"):
        still_image_tensors(conv)


@torch.no_grad()
def test_a_still_image_copy_gives_the_image_path_with_plain_weights_and_refuses_clips(randomise):
    """What deployment exports: the image path with the summed kernels held as weights, under the same keys."""
    model = tiny_omni(randomise)
    still = model.still_image_copy()
    image = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(still(image)[0], model(image)[0], rtol=1e-4, atol=1e-5)
    assert still.state_dict().keys() == model.state_dict().keys() and not still.training
    assert not torch.equal(still.layer3[0].conv1.weight, model.layer3[0].conv1.weight)  # the model is untouched
    with pytest.raises(ValueError, match=r'still-image copy: it takes \(N, C, H, W\) images; got shape \(1, 3, 2,'):
        still(torch.rand(1, 3, 2, 32, 32))
