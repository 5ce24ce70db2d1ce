"""Our mask pasting gives torchvision's pixels (its paste_masks_in_image, then the threshold), bit for bit."""
import pytest
import torch
from torchvision.models.detection.roi_heads import paste_masks_in_image

from resbackbones.models.detectors.mask_paste import paste_masks

SHAPE = (37, 53)


def _boxes() -> torch.Tensor:
    """Inside, crossing every border, sub-pixel, degenerate (x1 < x0) and the whole 37x53 image."""
    return torch.tensor([[5.2, 4.7, 20.9, 18.1], [-6.0, -3.5, 10.4, 8.0], [40.3, 25.0, 60.0, 45.0],
                         [12.0, 12.0, 12.4, 12.3], [30.0, 10.0, 29.0, 20.0], [0.0, 0.0, 52.9, 36.9]])


@pytest.mark.parametrize('threshold', [0.5, None])
def test_paste_masks_equals_torchvision(threshold):
    torch.manual_seed(0)
    masks = torch.rand(len(_boxes()), 1, 28, 28)
    ours = paste_masks(masks, _boxes(), SHAPE, threshold)
    theirs = paste_masks_in_image(masks, _boxes(), SHAPE)[:, 0]
    expected = theirs >= threshold if threshold is not None else theirs
    assert ours.dtype == expected.dtype and ours.shape == (len(masks),) + SHAPE
    assert torch.equal(ours, expected)
    assert ours[0].any() and ours[-1].float().mean() > 0.3


def test_paste_masks_outside_image_and_empty():
    """A box wholly outside the image pastes nothing (torchvision's own function raises there); no masks, no
    pixels."""
    outside = paste_masks(torch.ones(1, 1, 28, 28), torch.tensor([[70.0, 50.0, 90.0, 60.0]]), SHAPE, 0.5)
    assert outside.shape == (1,) + SHAPE and not outside.any()
    empty = paste_masks(torch.zeros(0, 1, 28, 28), torch.zeros(0, 4), SHAPE, 0.5)
    assert empty.shape == (0,) + SHAPE and empty.dtype == torch.bool
