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


@pytest.mark.parametrize('color_type', ['color', 'grayscale'])
def test_16_bit_grey_is_scaled_to_8_bits_as_cv2_does(tmp_path, color_type):
    """PIL's convert clips 16-bit grey to 0 / 255 (80 grey levels became 2); cv2 and mmcv shift right by 8."""
    levels = np.tile(np.linspace(0, 65535, 80).astype(np.uint16), (6, 1))
    Image.fromarray(levels).save(tmp_path / 'g16.png')
    img = LoadImageFromFile(color_type)(dict(img_path=str(tmp_path / 'g16.png')))['img']
    assert img.dtype == np.uint8 and img.shape[-1] == (3 if color_type == 'color' else 1)
    np.testing.assert_array_equal(img[..., 0], levels >> 8)


@pytest.mark.parametrize('orientation', [3, 6, 8])
def test_exif_orientation_is_applied_as_cv2_does(tmp_path, orientation):
    """Annotation tools draw on the image as shown, and mmcv's cv2 reading applies the tag; PIL alone does not."""
    import cv2
    pixels = np.random.default_rng(0).integers(0, 255, (6, 10, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / 'turned.png', exif=exif)  # lossless, so the pixels compare exactly
    img = LoadImageFromFile()(dict(img_path=str(tmp_path / 'turned.png')))
    shown = cv2.cvtColor(cv2.imread(str(tmp_path / 'turned.png')), cv2.COLOR_BGR2RGB)
    assert img['img'].shape == shown.shape == ((6, 10, 3) if orientation == 3 else (10, 6, 3))
    np.testing.assert_array_equal(img['img'], shown)
    assert img['ori_shape'] == shown.shape[:2]


def test_a_damaged_exif_block_leaves_the_pixels_unrotated(tmp_path, monkeypatch):
    """Pillow re-serialises the EXIF while transposing; a damaged field raised struct.error, which named no file and
    which skip_corrupt could not skip (a fuzzed JPEG did this), though the pixels decode."""
    import struct

    from PIL import ImageOps
    pixels = np.random.default_rng(0).integers(0, 255, (6, 10, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / 'turned.png', exif=exif)

    def damaged(img):
        raise struct.error('required argument is not an integer')
    monkeypatch.setattr(ImageOps, 'exif_transpose', damaged)
    np.testing.assert_array_equal(LoadImageFromFile()(dict(img_path=str(tmp_path / 'turned.png')))['img'], pixels)
