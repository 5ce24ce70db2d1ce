"""torchvision's video ResNets: random weights and BN statistics saved in its format load into the named rows over
our core and give torchvision's logits."""
from __future__ import annotations

import pytest
import torch
import torchvision.models.video as tvv

from resbackbones.backbones import video_model_config
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained


@pytest.mark.slow
@pytest.mark.parametrize('name', ['r3d_18', 'mc3_18', 'r2plus1d_18'])
@torch.no_grad()
def test_torchvision_checkpoint_gives_torchvision_logits(tmp_path, randomise, name):
    theirs = randomise(getattr(tvv, name)(num_classes=7))
    path = tmp_path / f'{name}.pth'
    torch.save(theirs.state_dict(), path)
    ours = MODELS.build(dict(type='Recognizer3D', backbone=video_model_config(name), num_classes=7))
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'torchvision_video' and not report.missing and not report.unexpected
    assert report.loaded == len(theirs.state_dict())
    clip = torch.rand(2, 3, 8, 56, 56)
    torch.testing.assert_close(ours.eval()(clip), theirs(clip), rtol=1e-4, atol=1e-4)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_the_r2plus1d_middle_widths_are_torchvisions():
    theirs = tvv.r2plus1d_18()
    ours = MODELS.build(video_model_config('r2plus1d_18'))
    assert ours.conv1.mid_channels == 45 and ours.conv1[0].kernel_size == (1, 7, 7)
    # first block of layer2: both convs take (9 * 3 * 64 * 128) // (9 * 64 + 3 * 128) = 230, from the block's in/planes
    for k in (1, 2):
        conv = getattr(ours.layer2[0], f'conv{k}')
        assert conv.mid_channels == 230 == getattr(theirs.layer2[0], f'conv{k}')[0][0].out_channels
    per_conv = MODELS.build(dict(type='ResNet2Plus1d', depth=18, mid_channels_from='conv'))
    assert per_conv.layer2[0].conv2.mid_channels == (9 * 3 * 128 * 128) // (9 * 128 + 3 * 128) == 288
    assert per_conv.conv1.mid_channels == (49 * 3 * 3 * 64) // (49 * 3 + 3 * 64) == 83
