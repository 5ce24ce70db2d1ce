"""insightface's arcface_torch IResNet, written out from its definition, as the reference for parity tests.

insightface is not a pip-installable PyTorch package. Its network: stem conv-BN-PReLU; blocks BN, 3x3, BN, PReLU,
strided 3x3, BN, plus the shortcut, no activation after the sum; every stage halves; embedding BN, flatten, FC,
BatchNorm1d; module names as insightface's (so ``torch.save(state_dict())`` writes its checkpoint format).
"""
from __future__ import annotations

import torch
from torch import nn


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
