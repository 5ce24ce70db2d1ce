"""Tencent MedicalNet's (Med3D) 3D ResNet, written out from its definition (models/resnet.py), as the reference for
parity tests. MedicalNet is not a pip package.

Its network: conv1 7x7x7 stride 2 (padding 3, one input channel) -> BN -> ReLU -> max-pool 3x3x3 stride 2
(padding 1); layer1..4 of torchvision-style blocks with 3x3x3 convs whose padding equals their dilation; layer2
strides 2, layer3 and layer4 keep stride 1 and dilate 2 and 4 (its segmentation layout); shortcut type 'B' is a
1x1x1 conv + BN where the stride or width changes; a 'conv_seg' head (2x transposed conv, BN, ReLU, 3x3x3 conv,
BN, ReLU, 1x1x1 conv to the classes). Its training wraps the model in DataParallel, so checkpoints hold
``{'state_dict': {'module.<key>': ...}}``; ``save_medicalnet`` writes that format.
"""
from __future__ import annotations

import torch
from torch import nn


def _conv3(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Conv3d:
    return nn.Conv3d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1, self.bn1 = _conv3(cin, planes, stride, dilation), nn.BatchNorm3d(planes)
        self.conv2, self.bn2 = _conv3(planes, planes, 1, dilation), nn.BatchNorm3d(planes)
        self.relu, self.downsample = nn.ReLU(inplace=True), downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv3d(cin, planes, 1, bias=False), nn.BatchNorm3d(planes)
        self.conv2, self.bn2 = _conv3(planes, planes, stride, dilation), nn.BatchNorm3d(planes)
        self.conv3, self.bn3 = nn.Conv3d(planes, planes * 4, 1, bias=False), nn.BatchNorm3d(planes * 4)
        self.relu, self.downsample = nn.ReLU(inplace=True), downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class MedicalNetResNet(nn.Module):
    """MedicalNet's ResNet (shortcut 'B'); ``width`` scales 64 down for tiny tests; forward returns layer4."""

    def __init__(self, depth: int = 18, width: int = 64, num_seg_classes: int = 2):
        super().__init__()
        block, blocks = {10: (_Basic, (1, 1, 1, 1)), 18: (_Basic, (2, 2, 2, 2)), 34: (_Basic, (3, 4, 6, 3)),
                         50: (_Bottleneck, (3, 4, 6, 3))}[depth]
        self.inplanes = width
        self.conv1 = nn.Conv3d(1, width, 7, stride=2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm3d(width), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
        self.layer1 = self._layer(block, width, blocks[0])
        self.layer2 = self._layer(block, width * 2, blocks[1], stride=2)
        self.layer3 = self._layer(block, width * 4, blocks[2], dilation=2)
        self.layer4 = self._layer(block, width * 8, blocks[3], dilation=4)
        self.conv_seg = nn.Sequential(
            nn.ConvTranspose3d(width * 8 * block.expansion, 32, 2, stride=2), nn.BatchNorm3d(32), nn.ReLU(True),
            nn.Conv3d(32, 32, 3, padding=1, bias=False), nn.BatchNorm3d(32), nn.ReLU(True),
            nn.Conv3d(32, num_seg_classes, 1, bias=False))

    def _layer(self, block, planes, blocks, stride=1, dilation=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv3d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm3d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, dilation, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def save_medicalnet(model: nn.Module, path) -> None:
    """MedicalNet's checkpoint format: DataParallel keys under 'state_dict', plus its epoch counter."""
    torch.save({'ecpoch': 0, 'state_dict': {f'module.{k}': v for k, v in model.state_dict().items()}}, path)
