"""albumentations for detection: the image, its boxes and its masks move together; dropped boxes drop their masks."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .albu import albumentations, build_albu, seeded

PER_INSTANCE = ('gt_labels', 'gt_ignore_flags')


@TRANSFORMS.register_module()
class DetAlbu(BaseTransform):
    """Apply albumentations transforms (config dicts, as for ``Albu``) to ``img``, ``gt_bboxes``, ``gt_masks``.

    Flips, crops, scale/rotate and photometric jitter all work: boxes go through albumentations' 'pascal_voc'
    handling, masks through its mask targets; instances whose box leaves the image, or shrinks below
    ``min_size`` px, are dropped together with their label, ignore flag and mask.

    Args:
        transforms: e.g. ``[dict(type='HorizontalFlip', p=0.5), dict(type='ColorJitter', brightness=0.2)]``.
        min_size: smallest width and height (px) a box may keep after the transforms.
    """

    def __init__(self, transforms: Sequence[dict], min_size: float = 1.0):
        if isinstance(transforms, dict) or not transforms:
            raise ValueError(f'DetAlbu: transforms must be a non-empty list of dicts; got {transforms!r}')
        self.transforms, self.min_size = [dict(t) for t in transforms], min_size
        A = albumentations()
        self.aug = A.Compose([build_albu(t) for t in self.transforms],
                             bbox_params=A.BboxParams(format='pascal_voc', label_fields=['index'], clip=True))

    def transform(self, results: dict) -> dict:
        img = results['img']
        boxes = results.get('gt_bboxes', np.zeros((0, 4), np.float32))
        kwargs = dict(image=img, bboxes=boxes, index=list(range(len(boxes))))
        masks = results.get('gt_masks')
        if masks is not None and len(masks):
            kwargs['masks'] = masks
        out = seeded(self.aug)(**kwargs)
        img = out['image'][..., None] if out['image'].ndim == 2 else out['image']
        new_boxes = np.asarray(out['bboxes'], dtype=np.float32).reshape(-1, 4)
        keep = ((new_boxes[:, 2] - new_boxes[:, 0]) >= self.min_size) & \
               ((new_boxes[:, 3] - new_boxes[:, 1]) >= self.min_size)
        index = np.asarray(out['index'], dtype=np.int64)[keep]
        results['img'], results['img_shape'] = img, img.shape[:2]
        if 'gt_bboxes' in results:
            results['gt_bboxes'] = new_boxes[keep]
            for key in PER_INSTANCE:
                if key in results:
                    results[key] = results[key][index]
        if masks is not None:
            results['gt_masks'] = (np.asarray(out['masks'], dtype=np.uint8)[index] if len(masks)
                                   else np.zeros((0,) + img.shape[:2], np.uint8))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r}, min_size={self.min_size})'
