"""IResNet (ArcFace backbones) on the shared core, checked against insightface's network.

insightface is not a pip-installable PyTorch package, so its arcface_torch IResNet is written out below from its
definition (stem conv-BN-PReLU; blocks BN, 3x3, BN, PReLU, strided 3x3, BN, plus shortcut, no activation after the
sum; every stage halves; BN eps 1e-5; embedding BN, flatten, FC, BatchNorm1d), with insightface's module names.
A random instance saved with torch.save(state_dict()) must load into our IResNet and give its layer4 output.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2, self.prelu = nn.BatchNorm2d(cout), nn.PReLU(cout)
        self.conv2, self.bn3 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else None

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.downsample is None else self.downsample(x))


class InsightfaceIResNet(nn.Module):
    """insightface's layout and forward; ``layer4_only`` stops before the embedding layers."""

    def __init__(self, blocks=(2, 2, 2, 2), width=64, embedding=512, size=112):
        super().__init__()
        self.conv1, self.bn1, self.prelu = nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), \
            nn.PReLU(width)
        cin = width
        for i, n in enumerate(blocks):
            cout = width * 2 ** i
            self.add_module(f'layer{i + 1}', nn.Sequential(*[_Block(cin if j == 0 else cout, cout, 2 if j == 0 else 1)
                                                             for j in range(n)]))
            cin = cout
        self.bn2, self.dropout = nn.BatchNorm2d(cin), nn.Dropout(0.0)
        self.fc, self.features = nn.Linear(cin * (size // 16) ** 2, embedding), nn.BatchNorm1d(embedding)

    def forward(self, x, layer4_only=False):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if layer4_only:
            return x
        return self.features(self.fc(self.dropout(torch.flatten(self.bn2(x), 1))))


def _randomised(model: nn.Module) -> nn.Module:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            elif isinstance(m, nn.PReLU):
                m.weight.uniform_(0.1, 0.4)
    return model.eval()


@torch.no_grad()
def test_insightface_checkpoint_gives_the_same_layer4(tmp_path):
    reference = _randomised(InsightfaceIResNet(width=16, embedding=32))
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
