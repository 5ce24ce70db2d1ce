"""Decoding images held in memory (RecordIO records, .bin verification sets) rather than in files."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from mmcv.transforms import BaseTransform

from ..registry import TRANSFORMS
from .loading import COLOR_MODES, CorruptImageError, as_color_type


@TRANSFORMS.register_module()
class LoadImageFromBytes(BaseTransform):
    """Decode ``results['img_bytes']`` (JPEG/PNG ...) into ``results['img']`` (HxWxC uint8), drop the bytes.

    Errors name ``results['img_source']`` (e.g. 'train.rec, record 17'), as LoadImageFromFile names the file.

    Args:
        color_type: 'color' (RGB) or 'grayscale' (1 channel).
    """

    def __init__(self, color_type: str = 'color'):
        if color_type not in COLOR_MODES:
            raise ValueError(f'LoadImageFromBytes: color_type must be one of {sorted(COLOR_MODES)}; '
                             f'got {color_type!r}')
        self.color_type = color_type

    def transform(self, results: dict) -> dict:
        data = results.pop('img_bytes', None)
        source = results.get('img_source', 'an in-memory image')
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError(f"LoadImageFromBytes needs 'img_bytes' in the sample (FaceRecDataset, "
                             f"FaceVerificationDataset with a .bin); got keys {sorted(results)} for {source}")
        try:
            with Image.open(io.BytesIO(data)) as img:
                img = as_color_type(img, self.color_type)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise CorruptImageError(source, f'{type(err).__name__}: {err}') from err
        array = np.array(img, dtype=np.uint8)
        results['img'] = array[..., None] if array.ndim == 2 else array
        results['img_shape'] = results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(color_type={self.color_type!r})'
