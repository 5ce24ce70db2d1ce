"""PackInputs: HWC numpy -> CHW tensor with the same values, plus a data_samples dict."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from resbackbones.transforms import PackInputs


@pytest.mark.parametrize('shape, dtype', [((2, 3, 3), np.uint8), ((2, 3, 1), np.uint8), ((2, 3), np.uint8),
                                          ((2, 3, 3), np.float32)])
def test_layout_values_and_labels(shape, dtype):
    img = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    out = PackInputs()(dict(img=img, gt_label=np.int64(4), img_path='a/b.png', extra=1))
    chw = img if img.ndim == 3 else img[..., None]
    assert out['inputs'].shape == (chw.shape[2], *chw.shape[:2])
    assert out['inputs'].dtype == torch.from_numpy(img).dtype
    assert torch.equal(out['inputs'], torch.from_numpy(chw).permute(2, 0, 1))
    assert out['data_samples'] == dict(gt_label=4, img_path='a/b.png')
    assert type(out['data_samples']['gt_label']) is int


def test_read_only_array_gives_writable_tensor():
    img = np.zeros((2, 2, 1), np.uint8)
    img.flags.writeable = False
    out = PackInputs()(dict(img=img))
    out['inputs'][0, 0, 0] = 5  # must not touch the caller's array
    assert img[0, 0, 0] == 0 and out['data_samples'] == {}


def test_meta_keys():
    out = PackInputs(meta_keys=['img_path', 'ori_shape'])(dict(img=np.zeros((2, 2, 1), np.uint8), gt_label=1,
                                                               img_path='x', ori_shape=(2, 2)))
    assert out['data_samples'] == dict(img_path='x', ori_shape=(2, 2))


@pytest.mark.parametrize('results, kwargs, message', [
    (dict(img_path='x.png'), {}, r"PackInputs needs results\['img'\]"),
    (dict(img=np.zeros(3)), {}, r"PackInputs needs results\['img'\]"),
    (None, dict(meta_keys='gt_label'), 'meta_keys must be a list'),
])
def test_bad_inputs(results, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PackInputs(**kwargs)(results)
