"""The opt-in mmdet sampling conventions: aligned multi-level RoIAlign and unrounded base anchors."""
from __future__ import annotations

import math

import pytest
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign, roi_align

from resbackbones.models.detectors.mmdet_conventions import ExactAnchorGenerator
from resbackbones.models.detectors.roi_pooler import MultiLevelRoIAlign
from resbackbones.registry import MODELS


def _features():
    g = torch.Generator().manual_seed(0)
    return {name: torch.randn(2, 4, 64 // 2 ** i, 64 // 2 ** i, generator=g) for i, name in enumerate('0123')}


BOXES = [torch.tensor([[1.5, 2.0, 20.0, 30.0], [0.0, 0.0, 250.0, 200.0]]),
         torch.tensor([[10.0, 12.5, 130.0, 90.0], [3.0, 4.0, 9.0, 11.0], [5.0, 5.0, 60.0, 70.0]])]


@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_aligned_pooling_is_roi_align_aligned_on_torchvisions_levels(sampling_ratio):
    names, shapes = ['0', '1', '2', '3'], [(256, 256)] * 2
    ours = MultiLevelRoIAlign(names, 7, sampling_ratio, [4, 8, 16, 32], aligned=True)(_features(), BOXES, shapes)
    plain = MultiScaleRoIAlign(names, 7, sampling_ratio)
    plain(_features(), BOXES, shapes)  # sets its scales and level mapper
    levels = plain.map_levels(BOXES)
    assert len(set(levels.tolist())) >= 2, 'the boxes should span several levels'
    rois = [torch.cat([torch.full((len(b), 1), float(i)), b], 1) for i, b in enumerate(BOXES)]
    rois = torch.cat(rois)
    for k, level in enumerate(levels.tolist()):
        feature = _features()[names[level]]
        expected = roi_align(feature, rois[k:k + 1], 7, plain.scales[level], sampling_ratio, aligned=True)
        torch.testing.assert_close(ours[k:k + 1], expected)
    assert not torch.allclose(ours, plain(_features(), BOXES, shapes))  # the half-pixel shift matters


def test_exact_anchors_keep_mmdets_sizes():
    exact = ExactAnchorGenerator(((32.0,),), ((0.5, 1.0, 2.0),), [8]).cell_anchors[0]
    w, h = 32 * math.sqrt(2), 32 / math.sqrt(2)  # ratio h/w = 0.5 keeps the area 32 x 32
    torch.testing.assert_close(exact[0], torch.tensor([-w / 2, -h / 2, w / 2, h / 2]))
    torch.testing.assert_close(exact[1], torch.tensor([-16.0, -16.0, 16.0, 16.0]))
    rounded = AnchorGenerator(((32.0,),), ((0.5, 1.0, 2.0),)).cell_anchors[0]
    torch.testing.assert_close(rounded, exact.round())  # the only difference from torchvision


def test_configs_switch_the_conventions():
    def build(**kwargs):
        return MODELS.build(dict(type='FasterRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8),
                                 neck=dict(type='FPN', out_channels=16), **kwargs))
    default, mmdet = build(), build(rpn_head=dict(anchor_generator=dict(round_to_pixels=False)),
                                    roi_head=dict(aligned=True, sampling_ratio=0))
    assert default.roi_heads.box_roi_pool.aligned is False
    assert type(default.rpn.anchor_generator) is AnchorGenerator
    assert mmdet.roi_heads.box_roi_pool.aligned is True
    assert mmdet.roi_heads.box_roi_pool.sampling_ratio == 0
    assert isinstance(mmdet.rpn.anchor_generator, ExactAnchorGenerator)
    mmdet.eval()
    with torch.no_grad():
        [result] = mmdet.predict(torch.randn(1, 3, 64, 64))
    assert result.pred_instances.bboxes.shape[1:] == (4,)


def test_exact_anchors_sit_at_the_declared_strides():
    """torchvision's stride is padded image size // grid size: for an 800x1344 input the 13-row P6 grid got y stride
    61, not mmdet's 64 (P6 is not padded to 64)."""
    from torchvision.models.detection.image_list import ImageList
    generator = ExactAnchorGenerator(((512.0,),), ((1.0,),), [64])
    images = ImageList(torch.zeros(1, 3, 800, 1344), [(800, 1344)])
    [anchors] = generator(images, [torch.zeros(1, 4, 13, 21)])
    centres_y = ((anchors[:, 1] + anchors[:, 3]) / 2).unique()
    torch.testing.assert_close(centres_y, torch.arange(13.0) * 64)
    rounded = AnchorGenerator(((512.0,),), ((1.0,),))  # torchvision's own: kept so its checkpoints compute alike
    [plain] = rounded(images, [torch.zeros(1, 4, 13, 21)])
    assert float(((plain[:, 1] + plain[:, 3]) / 2).unique()[1]) == 61.0


def test_anchor_scales_of_the_wrong_form_are_named():
    with pytest.raises(ValueError, match=r'rpn_head.anchor_generator.scales must be a list of positive numbers, '
                                         r'e.g. \[8\]; got 8'):
        MODELS.build(dict(type='FasterRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8),
                          neck=dict(type='FPN', out_channels=16), rpn_head=dict(anchor_generator=dict(scales=8))))
