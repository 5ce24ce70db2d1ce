"""LoadImageFromFile: channel layout per color_type, and errors that name the file."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms import CorruptImageError, LoadImageFromFile


@pytest.mark.parametrize('src_mode, color_type, channels', [('L', 'color', 3), ('L', 'grayscale', 1),
                                                            ('RGB', 'color', 3), ('RGB', 'grayscale', 1)])
def test_channels_and_shapes(tmp_path, src_mode, color_type, channels):
    path = tmp_path / 'img.png'
    shape = (3, 5) if src_mode == 'L' else (3, 5, 3)
    Image.fromarray(np.full(shape, 200, dtype=np.uint8), src_mode).save(path)
    out = TRANSFORMS.build(dict(type='LoadImageFromFile', color_type=color_type))(dict(img_path=str(path)))
    assert out['img'].shape == (3, 5, channels) and out['img'].dtype == np.uint8
    assert out['img_shape'] == out['ori_shape'] == (3, 5)
    assert (out['img'] == 200).all()
    assert out['img'].flags.writeable


def test_rgb_channel_order(tmp_path):
    path = tmp_path / 'red.png'
    Image.fromarray(np.array([[[255, 0, 0]]], dtype=np.uint8)).save(path)
    assert LoadImageFromFile()(dict(img_path=str(path)))['img'][0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize('content', [b'', b'not an image', b'\x89PNG\r\n\x1a\n\x00\x00'])
def test_corrupt_names_file(tmp_path, content):
    path = tmp_path / 'broken.png'
    path.write_bytes(content)
    with pytest.raises(CorruptImageError, match='cannot read image .*broken.png') as err:
        LoadImageFromFile()(dict(img_path=str(path)))
    assert err.value.path == str(path)


@pytest.mark.parametrize('results, kwargs, error, message', [
    (dict(img_path='/nonexistent/x.png'), {}, FileNotFoundError, r'image file not found: /nonexistent/x\.png'),
    (dict(path='x.png'), {}, ValueError, "needs 'img_path'"),
    (None, dict(color_type='rgb'), ValueError, 'color_type must be one of'),
])
def test_bad_arguments(results, kwargs, error, message):
    with pytest.raises(error, match=message):
        LoadImageFromFile(**kwargs)(results)
