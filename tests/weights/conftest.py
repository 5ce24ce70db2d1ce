"""Fixtures for the weight-loading tests: randomised models and checkpoint writers, all tiny and offline."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones import create_model

TINY = dict(base_channels=8)  # stem 8 channels, stages 8..64: milliseconds per forward at 64x64


@pytest.fixture
def tiny_backbone(randomise):
    """A randomised tiny backbone of a named model (eval mode)."""
    def build(name: str = 'resnet18', seed: int = 1, **overrides) -> nn.Module:
        return randomise(create_model(name, **{**TINY, **overrides}), seed)
    return build


@pytest.fixture
def tiny_classifier(randomise):
    """A randomised tiny ImageClassifier of a named model (eval mode)."""
    def build(name: str = 'resnet18', num_classes: int = 5, seed: int = 1, **overrides) -> nn.Module:
        return randomise(create_model(name, num_classes=num_classes, **{**TINY, **overrides}), seed)
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
