"""albumentations for detection: the image, its boxes and its masks move together; dropped boxes drop their masks."""
from __future__ import annotations

from typing import Any, Sequence

import cv2

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .albu import albumentations, build_albu, each_transform, seeded
from .instance_map import KEY as INSTANCE_MAP, masks_from_instance_map

PER_INSTANCE = ('gt_labels', 'gt_ignore_flags')


def label_breaking_settings(transforms: Sequence[Any]) -> list[str]:
    """'Name.setting=value' for each built transform (nested ones too) that would mix instance labels in a map:
    mask interpolation other than nearest, or a mask fill other than 0 (background)."""
    found = []
    for t in each_transform(transforms):
        interpolation = getattr(t, 'mask_interpolation', cv2.INTER_NEAREST)
        if interpolation not in (None, cv2.INTER_NEAREST):
            found.append(f'{type(t).__name__}.mask_interpolation={interpolation}')
        fill = getattr(t, 'fill_mask', 0)
        if fill not in (None, 0):
            found.append(f'{type(t).__name__}.fill_mask={fill}')
    return found


@TRANSFORMS.register_module()
class DetAlbu(BaseTransform):
    """Apply albumentations transforms (config dicts, as for ``Albu``) to ``img``, ``gt_bboxes``, ``gt_masks``.

    Flips, crops, scale/rotate and photometric jitter all work: boxes go through albumentations' 'pascal_voc'
    handling, masks through its mask targets; instances whose box leaves the image, or shrinks below
    ``min_size`` px, are dropped together with their label, ignore flag and mask.

    A transform that changes the image size multiplies ``scale_factor`` (w, h) by the change, so boxes predicted
    on a resized test image map back to the original pixels; a crop's offset is not recorded (crop for training).

    Masks come either as ``gt_masks`` (N, H, W) or as one ``gt_instance_map`` (``InstanceMap``), which moves as a
    single plane and comes out as the ``gt_masks`` of the kept instances; it needs nearest mask interpolation and
    a mask fill of 0 (the defaults), or labels would mix.

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
        self.map_breaking = label_breaking_settings(self.aug.transforms)

    def transform(self, results: dict) -> dict:
        self._check_instances(results)
        img = results['img']
        boxes = results.get('gt_bboxes', np.zeros((0, 4), np.float32))
        kwargs = dict(image=img, bboxes=boxes, index=list(range(len(boxes))))
        masks = results.get('gt_masks')
        instance_map = results.pop(INSTANCE_MAP, None)
        if instance_map is not None:
            self._check_map_safe(results)
            kwargs['mask'] = instance_map
        elif masks is not None and len(masks):
            kwargs['masks'] = masks
        out = seeded(self.aug)(**kwargs)
        img = out['image'][..., None] if out['image'].ndim == 2 else out['image']
        new_boxes = np.asarray(out['bboxes'], dtype=np.float32).reshape(-1, 4)
        keep = ((new_boxes[:, 2] - new_boxes[:, 0]) >= self.min_size) & \
               ((new_boxes[:, 3] - new_boxes[:, 1]) >= self.min_size)
        index = np.asarray(out['index'], dtype=np.int64)[keep]
        old_h, old_w = results['img'].shape[:2]
        if img.shape[:2] != (old_h, old_w):
            # as DetResize: a later Pad makes the detector map boxes back by scale_factor, which must include this
            # resize (the factor from before it put test boxes in the wrong pixels)
            w_scale, h_scale = results.get('scale_factor', (1.0, 1.0))[:2]
            results['scale_factor'] = (w_scale * img.shape[1] / old_w, h_scale * img.shape[0] / old_h)
        results['img'], results['img_shape'] = img, img.shape[:2]
        if 'gt_bboxes' in results:
            results['gt_bboxes'] = new_boxes[keep]
            for key in PER_INSTANCE:
                if key in results:
                    results[key] = results[key][index]
        if instance_map is not None:
            results['gt_masks'] = masks_from_instance_map(out['mask'], index)
        elif masks is not None:
            results['gt_masks'] = (np.asarray(out['masks'], dtype=np.uint8)[index] if len(masks)
                                   else np.zeros((0,) + img.shape[:2], np.uint8))
        return results

    @staticmethod
    def _check_instances(results: dict) -> None:
        """ValueError for what the albumentations call would drop or leave behind: masks without boxes (every mask
        went, the labels stayed), masks and boxes of other counts (truncated), a semantic map or keypoints (left
        where they were)."""
        where = results.get('img_path', 'the sample')
        boxes, masks = results.get('gt_bboxes'), results.get('gt_masks')
        if (masks is not None or results.get(INSTANCE_MAP) is not None) and boxes is None:
            raise ValueError(f'DetAlbu: {where} has instance masks but no gt_bboxes; DetAlbu keeps instances by '
                             f'their boxes (load them with LoadDetAnnotations(with_bbox=True))')
        if masks is not None and boxes is not None and len(masks) != len(boxes):
            raise ValueError(f'DetAlbu: {where} has {len(masks)} masks for {len(boxes)} boxes; they must pair up')
        left = [key for key in ('gt_seg_map', 'gt_keypoints') if results.get(key) is not None]
        if left:
            raise ValueError(f'DetAlbu: {where} carries {left}, which DetAlbu does not move; move them with '
                             f'RandomFlip / DetResize or leave them out')

    def _check_map_safe(self, results: dict) -> None:
        if self.map_breaking:
            raise ValueError(f"DetAlbu: {results.get('img_path', 'the sample')} carries {INSTANCE_MAP} (InstanceMap), "
                             f'but {self.map_breaking} would mix its instance labels; keep the default nearest mask '
                             'interpolation and a mask fill of 0, or drop InstanceMap to transform separate masks')

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r}, min_size={self.min_size})'
