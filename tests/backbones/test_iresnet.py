"""IResNet (ArcFace backbones) on the shared core, checked against insightface's network as written out in
tests/insightface_reference.py: a random one saved in its format must load into ours and give its layer4 output."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared insightface reference
from insightface_reference import InsightfaceIResNet  # noqa: E402


@torch.no_grad()
def test_insightface_checkpoint_gives_the_same_layer4(tmp_path, randomise):
    reference = randomise(InsightfaceIResNet(width=16, embedding=32))
    path = tmp_path / 'r18_insightface.pth'
    torch.save(reference.state_dict(), path)
    ours = MODELS.build(dict(type='IResNet', depth=18, base_channels=16)).eval()
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'insightface'
    assert {k.split('.')[0] for k, _ in report.ignored} == {'bn2', 'fc', 'features'}
    faces = torch.rand(2, 3, 112, 112)
    [out] = ours(faces)
    torch.testing.assert_close(out, reference(faces, layer4_only=True))


def test_layout_and_specs():
    model = MODELS.build(dict(type='IResNet', depth=50, out_indices=('stem', 0, 1, 2, 3)))
    assert [(s.channels, s.stride) for s in model.feature_specs] == [(64, 1), (64, 2), (128, 4), (256, 8), (512, 16)]
    assert [len(model.get_submodule(f'layer{i}')) for i in range(1, 5)] == [3, 4, 14, 3]
    # insightface's IResNet-50 is 43,590,848 parameters: this backbone plus bn2, fc (512*7*7 -> 512) and features
    backbone = sum(p.numel() for p in model.parameters())
    assert backbone + 2 * 512 + (512 * 49 * 512 + 512) + 2 * 512 == 43_590_848
    assert isinstance(model.layer1[0].relu, nn.Identity)  # no activation after the residual sum


def test_frozen_stem_includes_its_prelu():
    model = MODELS.build(dict(type='IResNet', depth=18, base_channels=8, frozen_stages=0)).train()
    assert not model.prelu.weight.requires_grad and model.layer1[0].prelu.weight.requires_grad


@pytest.mark.parametrize('kwargs, message', [
    (dict(deep_stem=True), 'IResNet does not take deep_stem'),
    (dict(style='caffe'), 'IResNet does not take style'),
    (dict(groups=4), 'IBasicBlock supports only groups=1'),
    (dict(depth=152), r'depth must be one of \[18, 34, 50, 100, 200\]'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build({'type': 'IResNet', 'depth': 18, 'base_channels': 8, **kwargs})
