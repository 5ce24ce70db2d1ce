"""Resize: int = shorter edge (aspect kept), pair = exact (h, w); channel dim kept."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.transforms import functional as TF

from resbackbones.transforms import Resize


@pytest.mark.parametrize('shape, size, expected', [
    ((6, 12, 3), 3, (3, 6)), ((12, 6, 1), 3, (6, 3)), ((8, 8, 1), 32, (32, 32)),
    ((6, 12, 3), (5, 7), (5, 7)), ((4, 4, 1), (4, 4), (4, 4)),
])
def test_output_size(shape, size, expected):
    img = np.full(shape, 77, dtype=np.uint8)
    out = Resize(size)(dict(img=img))
    assert out['img'].shape == (*expected, shape[2])
    assert out['img_shape'] == expected
    assert (out['img'] == 77).all()  # a constant image stays constant under any interpolation


@pytest.mark.parametrize('shape', [(427, 640, 3), (640, 427, 3), (333, 500, 3), (375, 500, 1), (480, 853, 3)])
def test_the_shorter_edge_rule_is_torchvisions(shape):
    # the longer edge was rounded (427x640 -> 256x384), torchvision truncates (256x383)
    expected = tuple(TF.resize(torch.zeros(shape[2], *shape[:2]), 256).shape[1:])
    assert Resize(256)(dict(img=np.zeros(shape, np.uint8)))['img_shape'] == expected


def test_mmcvs_resize_with_scale_on_an_image_names_the_image_transform():
    with pytest.raises(ValueError, match=r"is an image \(results\['img'\]\): for images use Resize\(size=\.\.\.\)"):
        Resize(scale=(32, 32))(dict(img=np.zeros((8, 8, 3), np.uint8), img_path='a.png'))


def test_interpolation_nearest_keeps_values():
    img = np.array([[0, 255], [255, 0]], dtype=np.uint8)[..., None]
    out = Resize(4, interpolation='nearest')(dict(img=img))['img'][..., 0]
    assert set(np.unique(out).tolist()) == {0, 255} and out[0, 0] == 0 and out[0, 3] == 255


@pytest.mark.parametrize('size, interpolation, message', [
    (0, 'bilinear', 'positive int'), ((3,), 'bilinear', 'pair'), (True, 'bilinear', 'positive int'),
    (4, 'cubic', 'interpolation must be one of'),
])
def test_bad_arguments(size, interpolation, message):
    with pytest.raises(ValueError, match=message):
        Resize(size, interpolation)


@pytest.mark.parametrize('img', [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 2), np.uint8), None])
def test_bad_image(img):
    with pytest.raises(ValueError, match='Resize needs'):
        Resize(2)(dict(img=img, img_path='x.png'))


@pytest.mark.parametrize('key', ['gt_bboxes', 'gt_seg_map'])
def test_resize_refuses_annotations_it_would_leave_behind(key):
    img = np.zeros((8, 6, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"Resize resizes the image alone, but x\.png carries \['{key}'\]"):
        Resize(4)(dict(img=img, img_path='x.png', **{key: np.zeros((1, 4), np.float32)}))
