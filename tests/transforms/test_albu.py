"""Albu: albumentations transforms by name; unknown names and arguments are errors, not warnings."""
from __future__ import annotations

import numpy as np
import pytest

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms import Albu


def ramp(channels: int) -> np.ndarray:
    return np.arange(4 * 6 * channels, dtype=np.uint8).reshape(4, 6, channels)


@pytest.mark.parametrize('channels', [1, 3])
def test_flip_is_applied(channels):
    img = ramp(channels)
    out = TRANSFORMS.build(dict(type='Albu', transforms=[dict(type='HorizontalFlip', p=1.0)]))(dict(img=img.copy()))
    assert np.array_equal(out['img'], img[:, ::-1])


@pytest.mark.parametrize('channels', [1, 3])
def test_crop_updates_shape_and_nested_compose(channels):
    albu = Albu([dict(type='OneOf', p=1.0, transforms=[dict(type='CenterCrop', height=2, width=3)]),
                 dict(type='VerticalFlip', p=1.0)])
    out = albu(dict(img=ramp(channels)))
    assert out['img'].shape == (2, 3, channels) and out['img_shape'] == (2, 3)
    assert np.array_equal(out['img'], ramp(channels)[1:3, 1:4][::-1])


@pytest.mark.parametrize('transforms, message', [
    ([dict(type='HorizontalFlp')], r"unknown albumentations transform 'HorizontalFlp'; did you mean \['HorizontalFlip'"),
    ([dict(type='HorizontalFlip', prob=0.5)], r"HorizontalFlip has no argument\(s\) \['prob'\]; it takes \['p'\]"),
    ([dict(type='OneOf', transforms=[dict(type='Nope')])], "unknown albumentations transform 'Nope'"),
    ([dict(type='RandomResizedCrop', size='big')], 'cannot build RandomResizedCrop'),
    ([dict(type='to_tensor')], "unknown albumentations transform 'to_tensor'"),
    ([dict(p=0.5)], "must be a dict with a 'type'"),
    (dict(type='HorizontalFlip'), 'non-empty list of dicts'),
    ([], 'non-empty list of dicts'),
])
def test_bad_configs(transforms, message):
    with pytest.raises(ValueError, match=message):
        Albu(transforms)


def test_needs_an_image():
    with pytest.raises(ValueError, match=r"Albu needs results\['img'\]"):
        Albu([dict(type='HorizontalFlip')])(dict(img_path='x.png'))
