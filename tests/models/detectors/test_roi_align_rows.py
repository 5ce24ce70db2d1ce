"""roi_align_rows against torchvision's roi_align: same outputs and gradients, both conventions, both grids."""
from __future__ import annotations

import pytest
import torch
from torchvision.ops import roi_align

from resbackbones.models.detectors.roi_align_rows import roi_align_rows


def _rois(count: int, generator: torch.Generator) -> torch.Tensor:
    """Boxes over a 120 x 96 image, some partly or wholly off the map, one empty, two inverted, two images."""
    xy = torch.rand(count, 2, generator=generator) * torch.tensor([150.0, 120.0]) - 15.0
    wh = torch.rand(count, 2, generator=generator) * 70.0
    image = torch.randint(0, 2, (count, 1), generator=generator).double()
    rois = torch.cat([image, xy, xy + wh], 1).double()
    rois[0, 3:] = rois[0, 1:3]  # zero-size
    rois[1, 1:] = torch.tensor([50.0, 40.0, 45.0, 30.0])  # x2 < x1, y2 < y1
    rois[2, 1:] = torch.tensor([-40.0, -30.0, -20.0, -10.0])  # entirely outside
    rois[3, 1:] = torch.tensor([100.0, 80.0, 119.9, 95.9])  # against the far border
    rois[4, 1:] = torch.tensor([110.0, 90.0, 20.0, 10.0])  # inverted by more than a bin: a negative adaptive grid
    return rois


@pytest.mark.parametrize('aligned', [False, True])
@pytest.mark.parametrize('sampling_ratio', [2, 0, 1])
@pytest.mark.parametrize('output_size', [(7, 7), (5, 3)])
def test_matches_torchvision_forward_and_backward(aligned, sampling_ratio, output_size):
    g = torch.Generator().manual_seed(0)
    features = torch.randn(2, 6, 24, 30, dtype=torch.float64, generator=g, requires_grad=True)
    rois = _rois(40, g)
    expected = roi_align(features, rois, output_size, 0.25, sampling_ratio, aligned)
    ours = roi_align_rows(features, rois, output_size, 0.25, sampling_ratio, aligned)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)
    upstream = torch.randn(expected.shape, dtype=torch.float64, generator=g)
    grad_expected, = torch.autograd.grad(expected, features, upstream)
    grad_ours, = torch.autograd.grad(ours, features, upstream)
    torch.testing.assert_close(grad_ours, grad_expected, rtol=0, atol=1e-12)
    assert expected.abs().sum() > 0 and grad_expected.abs().sum() > 0  # the boxes do sample the map


def test_channels_last_float32_and_no_rois():
    g = torch.Generator().manual_seed(1)
    features = torch.randn(2, 8, 16, 16, generator=g).contiguous(memory_format=torch.channels_last)
    rois = _rois(12, g).float()
    torch.testing.assert_close(roi_align_rows(features, rois, 7, 0.25, 2), roi_align(features, rois, 7, 0.25, 2))
    empty = roi_align_rows(features, rois[:0], 7, 0.25, 2)
    assert empty.shape == (0, 8, 7, 7)


def test_low_precision_features_pool_in_float32():
    g = torch.Generator().manual_seed(2)
    features = torch.randn(1, 4, 16, 16, generator=g)
    rois = torch.tensor([[0.0, 4.0, 6.0, 40.0, 50.0]])
    pooled = roi_align_rows(features.bfloat16(), rois, 7, 0.25, 2)
    assert pooled.dtype == torch.float32
    torch.testing.assert_close(pooled, roi_align(features.bfloat16().float(), rois, 7, 0.25, 2))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r'expected features \(N, C, H, W\) and rois \(R, 5\)'):
        roi_align_rows(torch.zeros(1, 2, 8, 8), torch.zeros(3, 4), 7)


def test_backward_in_the_bf16_switchs_layout_and_no_gradient_for_boxes():
    """The training switch's case: channels_last float32 rows (after bf16 features are cast up); the gradient
    reaches the features as torchvision's does, and the boxes get none (as torchvision's)."""
    g = torch.Generator().manual_seed(3)
    features = torch.randn(2, 8, 20, 24, generator=g).contiguous(memory_format=torch.channels_last)
    features.requires_grad_(True)
    rois = _rois(24, g).float().requires_grad_(True)
    upstream = torch.randn(24, 8, 7, 7, generator=g)
    ours = roi_align_rows(features, rois, 7, 0.25, 0)
    grad_ours, grad_boxes = torch.autograd.grad(ours, (features, rois), upstream, allow_unused=True)
    grad_expected, = torch.autograd.grad(roi_align(features, rois, 7, 0.25, 0), features, upstream)
    torch.testing.assert_close(grad_ours, grad_expected, rtol=1e-5, atol=1e-5)
    assert grad_boxes is None or not grad_boxes.any()
