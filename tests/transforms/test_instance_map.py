"""An instance map gives the same masks as separate masks through every detection transform, and refuses what
would mix its labels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from resbackbones.transforms import DetAlbu, DetResize, InstanceMap, PackDetInputs
from resbackbones.transforms.instance_map import instance_map_from_masks, masks_from_instance_map


def blobs(h: int = 64, w: int = 80, seed: int = 0) -> dict:
    """A grey image with ~20 non-touching discs of random radius on a jittered grid: masks, boxes, labels, flags."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    masks = []
    for cy in range(8, h, 16):
        for cx in range(8, w, 16):
            r = rng.uniform(2.5, 6.5)
            masks.append(((yy - cy - rng.integers(-1, 2)) ** 2 + (xx - cx - rng.integers(-1, 2)) ** 2 <= r * r))
    masks = np.stack(masks).astype(np.uint8)
    img = (40 + 150 * masks.max(0) + rng.integers(0, 30, (h, w)))[..., None].astype(np.uint8)
    ys, xs = masks.any(2), masks.any(1)
    boxes = np.array([[x.argmax(), y.argmax(), w - x[::-1].argmax(), h - y[::-1].argmax()] for x, y in zip(xs, ys)],
                     np.float32)
    return dict(img=img, img_path='blobs.png', img_shape=(h, w), gt_bboxes=boxes, gt_masks=masks,
                gt_labels=np.arange(len(masks)) % 3, gt_ignore_flags=np.arange(len(masks)) % 5 == 4)


def test_map_round_trip_and_subset():
    s = blobs()
    instance_map = instance_map_from_masks(s['gt_masks'])
    assert instance_map.dtype == np.uint16 and instance_map.max() == len(s['gt_masks'])
    np.testing.assert_array_equal(masks_from_instance_map(instance_map, np.arange(len(s['gt_masks']))), s['gt_masks'])
    np.testing.assert_array_equal(masks_from_instance_map(instance_map, np.array([3, 0])), s['gt_masks'][[3, 0]])
    assert masks_from_instance_map(instance_map, np.zeros(0, np.int64)).shape == (0,) + instance_map.shape


def test_overlapping_or_missing_masks_are_errors_naming_the_image():
    s = blobs()
    s['gt_masks'][1] |= s['gt_masks'][0]
    with pytest.raises(ValueError, match=r'blobs\.png.*overlap \(\d+ pixels'):
        InstanceMap()(s)
    with pytest.raises(ValueError, match=r'blobs\.png has no gt_masks'):
        InstanceMap()(dict(img_path='blobs.png'))


NUCLEI = [dict(type='RandomCrop', height=40, width=48), dict(type='HorizontalFlip', p=0.5),
          dict(type='VerticalFlip', p=0.5), dict(type='RandomRotate90', p=0.5),
          dict(type='RandomBrightnessContrast', p=0.5)]


@pytest.mark.parametrize('transforms', [
    NUCLEI,
    [dict(type='Affine', rotate=(-30, 30), scale=(0.7, 1.4), translate_percent=0.1, p=1.0)],
    [dict(type='RandomResizedCrop', size=(48, 48), scale=(0.3, 1.0), p=1.0)],
    [dict(type='ElasticTransform', alpha=30, sigma=5, p=1.0)],
    [dict(type='OneOf', transforms=[dict(type='Rotate', limit=45), dict(type='Transpose')], p=1.0)],
], ids=['nuclei', 'affine', 'resized_crop', 'elastic', 'one_of'])
def test_albu_on_a_map_gives_the_masks_of_separate_masks(transforms):
    by_masks, by_map = DetAlbu(transforms), DetAlbu(transforms)
    torch.manual_seed(0)  # each DetAlbu seeds albumentations from torch at its first call: both draw alike
    a = by_masks(blobs())
    torch.manual_seed(0)
    b = by_map(InstanceMap()(blobs()))
    for seed in range(6):
        if seed:
            a, b = by_masks(blobs(seed=seed)), by_map(InstanceMap()(blobs(seed=seed)))
        assert 'gt_instance_map' not in b
        for key in ('img', 'gt_bboxes', 'gt_labels', 'gt_ignore_flags', 'gt_masks'):
            np.testing.assert_array_equal(a[key], b[key], err_msg=f'{key}, seed {seed}')
        assert b['gt_masks'].shape[1:] == b['img'].shape[:2]


@pytest.mark.parametrize('transform, setting', [
    (dict(type='Affine', rotate=10, mask_interpolation=1), 'Affine.mask_interpolation=1'),
    (dict(type='OneOf', transforms=[dict(type='Rotate', limit=10, fill_mask=1)]), 'Rotate.fill_mask=1')])
def test_albu_refuses_settings_that_mix_labels(transform, setting):
    albu = DetAlbu([transform])
    albu(blobs())  # separate masks are fine
    with pytest.raises(ValueError, match=rf"blobs\.png carries gt_instance_map.*{setting}"):
        albu(InstanceMap()(blobs()))


def test_resize_and_pack_expand_a_map_like_separate_masks():
    a = PackDetInputs()(DetResize((120, 100))(blobs()))
    b = PackDetInputs()(DetResize((120, 100))(InstanceMap()(blobs())))
    for name in ('gt_instances', 'ignored_instances'):
        ia, ib = getattr(a['data_samples'], name), getattr(b['data_samples'], name)
        assert len(ia) > 0 and torch.equal(ia.masks, ib.masks) and torch.equal(ia.bboxes, ib.bboxes)


def test_an_image_without_instances_packs_no_masks():
    s = blobs()
    empty = dict(s, gt_masks=s['gt_masks'][:0], gt_bboxes=s['gt_bboxes'][:0], gt_labels=s['gt_labels'][:0],
                 gt_ignore_flags=s['gt_ignore_flags'][:0])
    out = PackDetInputs()(DetAlbu(NUCLEI)(InstanceMap()(empty)))
    assert out['data_samples'].gt_instances.masks.shape == (0,) + out['inputs'].shape[1:]  # (0, H, W) as cropped
