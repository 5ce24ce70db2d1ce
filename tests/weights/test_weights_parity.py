"""Offline parity: torchvision and timm ImageNet architectures, random weights saved in their own format, loaded
by name, give the same logits and the same layer1..layer4 features (fp32, max abs diff <= 1e-4)."""
from __future__ import annotations

import pytest
import timm
import torch
import torchvision

from resbackbones import create_model

TOL = 1e-4
CASES = [
    ('resnet18', lambda: torchvision.models.resnet18()),
    ('resnet50', lambda: torchvision.models.resnet50()),
    pytest.param('resnet101', lambda: torchvision.models.resnet101(), marks=pytest.mark.slow),
    ('resnext50_32x4d', lambda: torchvision.models.resnext50_32x4d()),
    pytest.param('wide_resnet50_2', lambda: torchvision.models.wide_resnet50_2(), marks=pytest.mark.slow),
    ('resnet50d', lambda: timm.create_model('resnet50d', pretrained=False)),
    ('resnet50c', lambda: timm.create_model('resnet50c', pretrained=False)),
]


def _reference_outputs(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits and the outputs of layer1..layer4, captured by hooks in the same forward."""
    features = []
    hooks = [getattr(model, f'layer{i}').register_forward_hook(lambda m, i, out: features.append(out.clone()))
             for i in range(1, 5)]
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return logits, features


@pytest.mark.parametrize('name, reference', CASES)
def test_same_logits_and_features_as_reference(name, reference, tmp_path, randomise):
    ref = randomise(reference(), seed=3)
    path = tmp_path / f'{name}.pth'
    torch.save(ref.state_dict(), path)  # the reference library's own format: a flat state dict
    x = torch.randn(1, 3, 64, 64)
    ref_logits, ref_features = _reference_outputs(ref, x)

    classifier = create_model(name, pretrained=str(path), num_classes=1000).eval()
    backbone = create_model(name, pretrained=str(path), out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        logits, features = classifier(x), backbone(x)

    assert ref_logits.std() > 1e-2  # the comparison is not between two near-zero tensors
    assert (logits - ref_logits).abs().max().item() <= TOL
    assert len(features) == 4
    for ours, theirs in zip(features, ref_features):
        assert ours.shape == theirs.shape
        assert (ours - theirs).abs().max().item() <= TOL
