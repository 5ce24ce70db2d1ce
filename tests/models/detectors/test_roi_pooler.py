"""MultiLevelRoIAlign: torchvision's level mapping and result, whichever kernel pools."""
from __future__ import annotations

import pytest
import torch
from torchvision.ops import MultiScaleRoIAlign

from resbackbones.models.detectors.roi_pooler import MultiLevelRoIAlign

NAMES, SHAPES, STRIDES = ['0', '1', '2', '3'], [(256, 256)] * 2, [4, 8, 16, 32]
BOXES = [torch.tensor([[1.5, 2.0, 20.0, 30.0], [0.0, 0.0, 250.0, 200.0]], dtype=torch.float64),
         torch.tensor([[10.0, 12.5, 130.0, 90.0], [3.0, 4.0, 9.0, 11.0], [5.0, 5.0, 60.0, 70.0]],
                      dtype=torch.float64)]


def _features(requires_grad: bool = False) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {name: torch.randn(2, 4, 64 // 2 ** i, 64 // 2 ** i, generator=g, dtype=torch.float64,
                              requires_grad=requires_grad) for i, name in enumerate(NAMES)}


@pytest.mark.parametrize('impl', ['rows', 'torchvision', 'auto'])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_equals_torchvisions_multiscale_pooler(impl, sampling_ratio):
    features, reference_features = _features(True), _features(True)
    ours = MultiLevelRoIAlign(NAMES, 7, sampling_ratio, STRIDES, impl=impl)(features, BOXES, SHAPES)
    reference = MultiScaleRoIAlign(NAMES, 7, sampling_ratio)
    expected = reference(reference_features, BOXES, SHAPES)
    assert len(set(reference.map_levels(BOXES).tolist())) >= 2, 'the boxes should span several levels'
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)
    ours.square().sum().backward()
    expected.square().sum().backward()
    for name in NAMES:  # a level no box maps to may get no gradient at all (None) rather than zeros
        grad = features[name].grad if features[name].grad is not None else torch.zeros_like(features[name])
        torch.testing.assert_close(grad, reference_features[name].grad, rtol=0, atol=1e-12)


def test_bad_impl_is_named():
    with pytest.raises(ValueError, match=r"roi_head.roi_align_impl must be one of .*'rows'.*got 'fast'"):
        MultiLevelRoIAlign(NAMES, 7, 2, STRIDES, impl='fast')


@pytest.mark.parametrize('first_shape', [(40, 320), (33, 33), (20, 20), (256, 256)])
def test_scales_come_from_the_strides_not_the_first_image(first_shape):
    """torchvision guesses each level's scale from the first batch's image height, rounded to a power of 2; a
    first image 33-45 px high (or a 40x320 strip) doubled every scale and the level mapping for the model's life,
    so detections depended on which image came first."""
    pooler = MultiLevelRoIAlign(NAMES, 7, 2, STRIDES)
    h, w = first_shape
    features = {name: torch.randn(1, 4, -(-h // s), -(-w // s), dtype=torch.float64) for name, s in
                zip(NAMES, STRIDES)}
    pooler(features, [BOXES[0].clamp(max=min(h, w) - 1)], [first_shape])
    assert pooler.scales == [0.25, 0.125, 0.0625, 0.03125]
    assert (pooler.map_levels.k_min, pooler.map_levels.k_max) == (2, 5)
