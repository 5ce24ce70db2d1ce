"""albumentations on an image and its mask together, so geometric changes keep them aligned."""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .albu import albumentations, build_albu, each_transform, seeded

FILLING_MODULES = ('albumentations.augmentations.geometric.', 'albumentations.augmentations.crops.')
# geometric warps that bring in pixels from outside the image but take no fill_mask: those pixels would train as
# background, class 0
UNFILLED_WARPS = ('GridElasticDeform',)


def each_config(configs: Sequence[dict]) -> Iterator[dict]:
    """Every transform config, nested 'transforms' included, in the order ``each_transform`` walks the built ones."""
    for cfg in configs:
        yield cfg
        yield from each_config(cfg.get('transforms', ()))


def mask_fillers(configs: Sequence[dict], built: Sequence[Any]) -> list[Any]:
    """The built warps, pads and crops that fill the mask where pixels come from outside the image
    (``fill_mask``), less those whose config sets it; dropouts also take ``fill_mask`` but mean something else."""
    return [t for cfg, t in zip(each_config(configs), each_transform(built))
            if hasattr(t, 'fill_mask') and type(t).__module__.startswith(FILLING_MODULES)
            and 'fill_mask' not in cfg]


@TRANSFORMS.register_module()
class SegAlbu(BaseTransform):
    """Apply albumentations transforms (config dicts, see ``Albu``) to ``img`` and ``gt_seg_map`` at once.

    Geometric transforms move both (masks with nearest-neighbour interpolation); pixel transforms change only the
    image. Works on float32 images (after NormalizeIntensity; pixel transforms such as RandomGamma need [0, 1], and
    NaN results are an error naming the file) as well as uint8. Mask pixels that a rotation, shift,
    scale, pad or crop brings in from outside the image get the sample's ``ignore_index`` (255 by default), as in
    RandomAffine3D, not background, unless the transform's config sets ``fill_mask``.

    Args:
        transforms: e.g. ``[dict(type='HorizontalFlip', p=0.5), dict(type='RandomRotate90', p=1.0)]``.
    """

    def __init__(self, transforms: Sequence[dict]):
        if isinstance(transforms, dict) or not isinstance(transforms, Sequence) or not transforms:
            raise ValueError(f'SegAlbu: transforms must be a non-empty list of dicts; got {transforms!r}')
        self.transforms = [dict(t) for t in transforms]
        unfilled = [cfg['type'] for cfg in each_config(self.transforms) if cfg.get('type') in UNFILLED_WARPS]
        if unfilled:
            raise ValueError(f'SegAlbu: {unfilled} take no fill_mask, so mask pixels they bring in from outside the '
                             'image would train as background; use ElasticTransform or GridDistortion, which fill '
                             'them with ignore_index')
        self.aug = albumentations().Compose([build_albu(t) for t in self.transforms])
        self.fillers = mask_fillers(self.transforms, self.aug.transforms)

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(f"SegAlbu needs results['img'] as an HxWxC array for "
                             f"{results.get('img_path', 'a sample')}")
        mask = results.get('gt_seg_map')
        if mask is None:
            out = seeded(self.aug)(image=img)
        else:
            ignore = results.get('ignore_index', 255)
            for t in self.fillers:
                t.fill_mask = ignore
            # the smallest dtype that holds the labels and the fill: OpenCV warps no int64, and its morphology
            # (Morphological) takes no int32
            low, high = min(int(mask.min()), ignore), max(int(mask.max()), ignore)
            dtype = np.uint8 if 0 <= low and high <= 255 else np.uint16 if 0 <= low and high <= 65535 else np.int32
            out = seeded(self.aug)(image=img, mask=mask.astype(dtype))
            results['gt_seg_map'] = out['mask'].astype(np.int64)
        if np.issubdtype(out['image'].dtype, np.floating) and not np.isfinite(out['image']).all():
            # RandomGamma on negative values (percentile or z-score normalised, unclipped) gave NaN pixels
            raise ValueError(f"SegAlbu: {results.get('img_path', 'a sample')}: the transforms "
                             f"{[t.get('type') for t in self.transforms]} made NaN/inf pixels; pixel transforms such "
                             "as RandomGamma need values in [0, 1] (NormalizeIntensity(clip=True)) or uint8")
        results['img'] = out['image'][..., None] if out['image'].ndim == 2 else out['image']
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r})'
