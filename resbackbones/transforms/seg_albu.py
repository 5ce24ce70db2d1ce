"""albumentations on an image and its mask together, so geometric changes keep them aligned."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .albu import albumentations, build_albu, seeded


@TRANSFORMS.register_module()
class SegAlbu(BaseTransform):
    """Apply albumentations transforms (config dicts, see ``Albu``) to ``img`` and ``gt_seg_map`` at once.

    Geometric transforms move both (masks with nearest-neighbour interpolation); pixel transforms change only the
    image. Works on float32 images (after NormalizeIntensity) as well as uint8.

    Args:
        transforms: e.g. ``[dict(type='HorizontalFlip', p=0.5), dict(type='RandomRotate90', p=1.0)]``.
    """

    def __init__(self, transforms: Sequence[dict]):
        if isinstance(transforms, dict) or not isinstance(transforms, Sequence) or not transforms:
            raise ValueError(f'SegAlbu: transforms must be a non-empty list of dicts; got {transforms!r}')
        self.transforms = [dict(t) for t in transforms]
        self.aug = albumentations().Compose([build_albu(t) for t in self.transforms])

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(f"SegAlbu needs results['img'] as an HxWxC array for "
                             f"{results.get('img_path', 'a sample')}")
        mask = results.get('gt_seg_map')
        if mask is None:
            out = seeded(self.aug)(image=img)
        else:  # int32: albumentations/OpenCV do not warp int64
            out = seeded(self.aug)(image=img, mask=mask.astype(np.int32))
            results['gt_seg_map'] = out['mask'].astype(np.int64)
        results['img'] = out['image'][..., None] if out['image'].ndim == 2 else out['image']
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r})'
