"""Fixtures for the weight-loading tests: randomised models and checkpoint writers, all tiny and offline."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones import create_model

TINY = dict(base_channels=8)  # stem 8 channels, stages 8..64: milliseconds per forward at 64x64


def _randomise(model: nn.Module, seed: int = 1) -> nn.Module:
    """Random convs, BN running statistics and BN affine, so that a load that misses any of them shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * (2 / fan_in) ** 0.5)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
                module.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.25)
                module.bias.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
            elif isinstance(module, nn.GroupNorm):
                module.weight.copy_(torch.rand(module.num_channels, generator=gen) * 0.5 + 0.25)
                module.bias.copy_(torch.rand(module.num_channels, generator=gen) * 0.4 - 0.2)
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.1)
                module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
    return model.eval()


@pytest.fixture
def randomise():
    """The randomiser, for reference models built inside a test."""
    return _randomise


@pytest.fixture
def tiny_backbone():
    """A randomised tiny backbone of a named model (eval mode)."""
    def build(name: str = 'resnet18', seed: int = 1, **overrides) -> nn.Module:
        return _randomise(create_model(name, **{**TINY, **overrides}), seed)
    return build


@pytest.fixture
def tiny_classifier():
    """A randomised tiny ImageClassifier of a named model (eval mode)."""
    def build(name: str = 'resnet18', num_classes: int = 5, seed: int = 1, **overrides) -> nn.Module:
        return _randomise(create_model(name, num_classes=num_classes, **{**TINY, **overrides}), seed)
    return build


@pytest.fixture
def image() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64)


@pytest.fixture
def save(tmp_path):
    """Write an object with torch.save under tmp_path and return the path."""
    def write(obj, name: str = 'ckpt.pth'):
        path = tmp_path / name
        torch.save(obj, path)
        return path
    return write
