"""Reading images from disk with PIL, with errors that name the file."""
from __future__ import annotations

import os
import struct

from mmcv.transforms import BaseTransform
import numpy as np
from PIL import Image, ImageOps

from ..registry import TRANSFORMS

COLOR_MODES = {'color': 'RGB', 'grayscale': 'L'}
SIXTEEN_BIT = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I')  # PIL's modes of 16-bit grey PNGs and TIFFs


def as_color_type(img: Image.Image, color_type: str) -> Image.Image:
    """``img`` as RGB ('color') or L ('grayscale'), read as cv2 / mmcv read a file: the EXIF orientation applied
    (annotations are drawn on the image as shown) and 16-bit grey scaled to 8 bits (>> 8), which ``convert`` alone
    would clip to 0 / 255."""
    if img.getexif().get(0x0112, 1) != 1:  # only rotated files pay for the transposed copy
        try:
            img = ImageOps.exif_transpose(img)
        except struct.error:  # Pillow re-serialises the EXIF: a damaged field stopped the run (no file named, not
            pass  # skippable), though the pixels are fine; they are read as stored, unrotated
    if img.mode in SIXTEEN_BIT:
        img = Image.fromarray((np.asarray(img, dtype=np.int64) >> 8).clip(0, 255).astype(np.uint8), 'L')
    return img.convert(COLOR_MODES[color_type])


class CorruptImageError(ValueError):
    """A file exists but cannot be decoded as an image; ``path`` names it (datasets may skip these)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f'cannot read image {path}: {reason}')
        self.path = path


def read_image(path: str, color_type: str = 'color') -> np.ndarray:
    """Decode ``path`` fully into an HxWxC uint8 array (C=3 for 'color', 1 for 'grayscale').

    Raises FileNotFoundError when the file is missing and CorruptImageError when it is not a readable image
    (truncated, not an image, unsupported format), so a bad file is reported by name, never as a bare traceback.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        with Image.open(path) as img:
            img = as_color_type(img, color_type)  # decodes the whole file: truncation shows here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise CorruptImageError(path, f'{type(err).__name__}: {err}') from err
    array = np.array(img, dtype=np.uint8)  # a writable copy: torch.from_numpy warns on read-only arrays
    return array[..., None] if array.ndim == 2 else array


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Load ``results['img_path']`` into ``results['img']`` (HxWxC uint8) and record ``img_shape``/``ori_shape``.

    Args:
        color_type: 'color' (RGB, 3 channels) or 'grayscale' (1 channel, for ``in_channels=1`` models).
    """

    def __init__(self, color_type: str = 'color'):
        if color_type not in COLOR_MODES:
            raise ValueError(f'LoadImageFromFile: color_type must be one of {sorted(COLOR_MODES)}; '
                             f'got {color_type!r}')
        self.color_type = color_type

    def transform(self, results: dict) -> dict:
        if 'img_path' not in results:
            raise ValueError(f"LoadImageFromFile needs 'img_path' in the sample; got keys {sorted(results)}")
        img = read_image(results['img_path'], self.color_type)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(color_type={self.color_type!r})'


@TRANSFORMS.register_module()
class LoadRGBFromFile(LoadImageFromFile):
    """mmaction2's name for reading an image as RGB (its OmniSource image pipeline): LoadImageFromFile('color').

    Args (mmaction2's): to_float32: give float32 pixels instead of uint8. color_type: 'color' only (the name says
    RGB). imdecode_backend: 'cv2' or 'pillow' (decoded with PIL either way; the pixels are the same RGB).
    io_backend: 'disk' only. ignore_empty: False only (a missing file is an error naming it).
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color', imdecode_backend: str = 'cv2',
                 io_backend: str = 'disk', ignore_empty: bool = False):
        for name, value, allowed in (('color_type', color_type, ('color',)),
                                     ('imdecode_backend', imdecode_backend, ('cv2', 'pillow')),
                                     ('io_backend', io_backend, ('disk',)), ('ignore_empty', ignore_empty, (False,))):
            if value not in allowed:
                raise ValueError(f'LoadRGBFromFile: {name} must be one of {allowed}; got {value!r}')
        super().__init__('color')
        self.to_float32 = bool(to_float32)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if self.to_float32:
            results['img'] = results['img'].astype(np.float32)
        return results
