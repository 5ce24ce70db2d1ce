"""Resize an image to a fixed size or by its shorter edge (torchvision's ``Resize`` semantics)."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np
from PIL import Image

from ..registry import TRANSFORMS
from .image_only import refuse_geometric_annotations

INTERPOLATIONS = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC,
                  'lanczos': Image.LANCZOS}


def target_size(height: int, width: int, size: int | tuple[int, int]) -> tuple[int, int]:
    """(h, w) after resizing: ``size`` as an int is the shorter edge (aspect kept, the longer one truncated as
    torchvision does: 427x640 -> 256x383), as a pair it is (h, w)."""
    if isinstance(size, int):
        short, long = sorted((height, width))
        new_long = max(1, int(size * long / short))
        return (size, new_long) if height <= width else (new_long, size)
    return size


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize ``results['img']`` (HxWxC uint8, C = 1 or 3) and update ``img_shape``.

    ``Resize(scale=..., keep_ratio=...)`` (mmaction2's arguments) builds the clip resize instead, ``ClipResize`` in
    transforms/video/resize.py, so mmaction2's video pipelines keep their ``dict(type='Resize', scale=(-1, 256))``.

    Args:
        size: an int resizes the shorter edge to it, keeping the aspect ratio; (h, w) resizes to exactly that.
        interpolation: 'nearest', 'bilinear', 'bicubic' or 'lanczos'.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Resize and 'scale' in kwargs:
            from .video.resize import ClipResize
            return ClipResize(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, size: int | Sequence[int], interpolation: str = 'bilinear'):
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            self.size = size
        elif (isinstance(size, Sequence) and len(size) == 2
              and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
            self.size = (int(size[0]), int(size[1]))
        else:
            raise ValueError(f'Resize: size must be a positive int (shorter edge) or a pair (h, w) of positive '
                             f'ints; got {size!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'Resize: interpolation must be one of {sorted(INTERPOLATIONS)}; got {interpolation!r}')
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] not in (1, 3) or img.dtype != np.uint8:
            got = f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray) else type(img).__name__
            raise ValueError(f"Resize needs results['img'] as an HxWx1 or HxWx3 uint8 array (put it after "
                             f"LoadImageFromFile, before normalisation); got {got} "
                             f"for {results.get('img_path', 'an in-memory image')}")
        refuse_geometric_annotations(results, 'Resize resizes the image alone')
        height, width = target_size(img.shape[0], img.shape[1], self.size)
        if (height, width) != img.shape[:2]:
            pil = Image.fromarray(img[..., 0] if img.shape[2] == 1 else img)
            out = np.array(pil.resize((width, height), INTERPOLATIONS[self.interpolation]))
            img = out[..., None] if out.ndim == 2 else out
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size!r}, interpolation={self.interpolation!r})'
