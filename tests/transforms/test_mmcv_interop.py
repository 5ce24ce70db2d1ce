"""mmcv's pure-Python transforms and wrappers work inside our pipelines by name, and ours inside theirs."""
from __future__ import annotations

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

import resbackbones.transforms as ours
from resbackbones.registry import TRANSFORMS


def sample() -> dict:
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    return dict(img=img, img_shape=(4, 6), ori_shape=(4, 6), gt_label=1)


def test_every_transform_of_ours_is_an_mmcv_base_transform():
    ours_registered = [cls for cls in TRANSFORMS.module_dict.values() if cls.__module__.startswith('resbackbones.')]
    assert len(ours_registered) > 20
    assert [c.__name__ for c in ours_registered if not issubclass(c, BaseTransform)] == []


def test_mmcv_flip_and_crop_by_name_then_our_packing():
    pipeline = Compose([TRANSFORMS.build(t) for t in [
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='mmcv.CenterCrop', crop_size=(4, 2)),  # mmcv's (w, h); our CenterCrop is mmaction2's clip crop
        dict(type='PackInputs')]])
    out = pipeline(sample())
    expected = sample()['img'][:, ::-1][1:3, 1:5]  # flipped, then the central 2 rows x 4 columns
    torch.testing.assert_close(out['inputs'], torch.from_numpy(expected.copy()).permute(2, 0, 1))
    assert int(out['data_samples']['gt_label']) == 1


def test_mmcv_wrappers_compose_with_our_transforms():
    """Under the configs' default_scope, a wrapper's inner 'Resize' is ours; mmcv's own is 'mmcv.Resize'."""
    with DefaultScope.overwrite_default_scope('resbackbones'):
        chosen = TRANSFORMS.build(dict(type='RandomChoice', transforms=[[dict(type='Resize', size=(2, 3))]]))
        assert chosen(sample())['img'].shape == (2, 3, 3)
        skipped = TRANSFORMS.build(dict(type='RandomApply', transforms=[dict(type='Resize', size=(2, 3))], prob=0))
        assert skipped(sample())['img'].shape == (4, 6, 3)
        theirs = TRANSFORMS.build(dict(type='mmcv.Resize', scale=(3, 2)))  # mmcv's (w, h)
        assert theirs(sample())['img'].shape == (2, 3, 3)


def test_center_crop_of_an_image_sample_is_mmcvs():
    # the name is our clip transform's too; an image pipeline's CenterCrop failed asking for PyAVDecode
    from mmcv.transforms import CenterCrop as MmcvCenterCrop
    def image():
        return dict(img=np.arange(8 * 10 * 3, dtype=np.uint8).reshape(8, 10, 3),
                    gt_bboxes=np.array([[0, 0, 10, 8]], np.float32))
    ours = TRANSFORMS.build(dict(type='CenterCrop', crop_size=(4, 2)))(image())
    theirs = MmcvCenterCrop(crop_size=(4, 2))(image())
    assert ours['img'].shape == (2, 4, 3) and np.array_equal(ours['img'], theirs['img'])
    assert np.array_equal(ours['gt_bboxes'], theirs['gt_bboxes'])


def test_det_resize_takes_an_int_scale_as_mmcv():
    assert TRANSFORMS.build(dict(type='DetResize', scale=800)).scales == [(800, 800)]  # was a bare TypeError
