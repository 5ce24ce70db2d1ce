"""MedicalNet (Med3D) checkpoints into VolumeResNet: detected by their head, aligned by keys, reported, and giving
MedicalNet's own features (its network written out in tests/medicalnet_reference.py, random weights)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared MedicalNet reference
from medicalnet_reference import MedicalNetResNet, save_medicalnet  # noqa: E402

LAYOUT = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), out_indices=(3,))  # MedicalNet's segmentation layout


@pytest.mark.parametrize('depth', [18, 50])
@torch.no_grad()
def test_medicalnet_checkpoint_gives_its_features(tmp_path, randomise, depth):
    ref = randomise(MedicalNetResNet(depth, width=8))
    path = tmp_path / f'resnet_{depth}.pth'
    save_medicalnet(ref, path)
    ours = MODELS.build(dict(type='VolumeResNet', depth=depth, base_channels=8, **LAYOUT)).eval()
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'medicalnet' and not report.missing and not report.unexpected
    assert {reason for _, reason in report.ignored} == {'not part of the backbone (MedicalNet segmentation head)'}
    x = torch.randn(1, 1, 19, 24, 21)
    torch.testing.assert_close(ours(x)[0], ref.features(x), rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_single_channel_stem_adapts_to_several_modalities(tmp_path, randomise):
    ref = randomise(MedicalNetResNet(18, width=8))
    save_medicalnet(ref, tmp_path / 'r18.pth')
    ours = MODELS.build(dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=2, **LAYOUT)).eval()
    report = load_pretrained(ours, str(tmp_path / 'r18.pth'))
    assert 'conv1.weight: 1 -> 2 input channels (single channel repeated, divided by 2)' in report.adapted
    x = torch.randn(1, 1, 9, 16, 16)
    torch.testing.assert_close(ours(x.repeat(1, 2, 1, 1, 1))[0], ref.features(x), rtol=1e-4, atol=1e-4)


def test_another_depth_is_refused_and_leaves_the_model_untouched(tmp_path, randomise):
    save_medicalnet(randomise(MedicalNetResNet(34, width=8)), tmp_path / 'r34.pth')
    ours = MODELS.build(dict(type='VolumeResNet', depth=50, base_channels=8, **LAYOUT))
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    with pytest.raises(ValueError, match='saved from another architecture'):
        load_pretrained(ours, str(tmp_path / 'r34.pth'))
    assert all(torch.equal(before[k], v) for k, v in ours.state_dict().items())
