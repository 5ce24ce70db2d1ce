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


def probe_boxes(h: int, w: int) -> np.ndarray:
    """The whole image and its middle half, as pascal_voc boxes."""
    return np.array([[0, 0, w, h], [w / 4, h / 4, 3 * w / 4, 3 * h / 4]], np.float32)


def probe_geometry(probed: dict, old: tuple[int, int], new: tuple[int, int]
                   ) -> tuple[tuple[float, float], tuple[int, int], str]:
    """(scale (w, h), the resized content's (h, w), '' or what moved the content) from the landed probes: a resize
    keeps the whole-image probe at the origin and scales the middle one with it; a right/bottom pad leaves the
    content smaller than the new image. Anything else (a crop, a centred pad, a rotation) moved it."""
    (old_h, old_w), (new_h, new_w) = old, new
    whole, middle = probed.get(-1), probed.get(-2)
    if whole is None or middle is None:
        return (new_w / old_w, new_h / old_h), new, 'cut the image (a probe box left it)'
    x1, y1, x2, y2 = (float(v) for v in whole)
    sx, sy = (x2 - x1) / old_w, (y2 - y1) / old_h
    expected = np.array([x1 + sx * old_w / 4, y1 + sy * old_h / 4, x1 + 3 * sx * old_w / 4, y1 + 3 * sy * old_h / 4])
    if abs(x1) > 0.5 or abs(y1) > 0.5 or np.abs(np.asarray(middle, np.float64) - expected).max() > 0.5:
        return (new_w / old_w, new_h / old_h), new, 'moved or cut the image content (a crop, a centred pad ...)'
    content = (min(new_h, int(round(y2))), min(new_w, int(round(x2))))
    return (content[1] / old_w, content[0] / old_h), content, ''


@TRANSFORMS.register_module()
class DetAlbu(BaseTransform):
    """Apply albumentations transforms (config dicts, as for ``Albu``) to ``img``, ``gt_bboxes``, ``gt_masks``.

    Flips, crops, scale/rotate and photometric jitter all work: boxes go through albumentations' 'pascal_voc'
    handling, masks through its mask targets; instances whose box leaves the image, or shrinks below
    ``min_size`` px, are dropped together with their label, ignore flag and mask.

    Where the image went is measured with two probe boxes (the whole image and its middle half) sent along: a
    resize multiplies ``scale_factor`` (w, h); a resize followed by padding at the right and bottom (the letterbox
    of ``LongestMaxSize`` + ``PadIfNeeded(position='top_left')``) also keeps the resized content's ``img_shape``
    and records ``pad_shape``, so test boxes map back to the original pixels. A crop, a centred pad, a rotation
    (the content moved or was cut) is recorded as ``geometry_moved``: fine for training targets, which move with
    the image, but mapping predictions back is then refused (it put them in the wrong pixels). Transforms that
    choose crops by the boxes (``*BBox*``) are not probed, since a probe would change their choice.

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
        self.probe = not any('BBox' in type(t).__name__ for t in each_transform(self.aug.transforms))

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
        old_h, old_w = img.shape[:2]
        if self.probe:
            probes = probe_boxes(old_h, old_w)
            kwargs['bboxes'] = np.concatenate([np.asarray(boxes, np.float32).reshape(-1, 4), probes])
            kwargs['index'] = kwargs['index'] + [-1, -2]
        out = seeded(self.aug)(**kwargs)
        img = out['image'][..., None] if out['image'].ndim == 2 else out['image']
        new_boxes = np.asarray(out['bboxes'], dtype=np.float32).reshape(-1, 4)
        index = np.asarray(out['index'], dtype=np.int64)
        probed = {int(i): box for i, box in zip(index, new_boxes) if i < 0}
        new_boxes, index = new_boxes[index >= 0], index[index >= 0]
        keep = ((new_boxes[:, 2] - new_boxes[:, 0]) >= self.min_size) & \
               ((new_boxes[:, 3] - new_boxes[:, 1]) >= self.min_size)
        index = index[keep]
        self._record_geometry(results, probed, (old_h, old_w), img.shape[:2])
        results['img'] = img
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

    def _record_geometry(self, results: dict, probed: dict, old: tuple[int, int], new: tuple[int, int]) -> None:
        """scale_factor, img_shape and pad_shape after the call, from where the probes landed (see the class)."""
        (old_h, old_w), (new_h, new_w) = old, new
        content = (new_h, new_w)
        if not self.probe:  # as before: a size change read as a resize
            scale = (new_w / old_w, new_h / old_h)
        else:
            scale, content, moved = probe_geometry(probed, old, new)
            if moved:
                results['geometry_moved'] = f'DetAlbu({[t.get("type") for t in self.transforms]}) {moved}'
        if scale != (1.0, 1.0):  # as DetResize: the factor a later Pad makes the detector map boxes back by
            w_scale, h_scale = results.get('scale_factor', (1.0, 1.0))[:2]
            results['scale_factor'] = (w_scale * scale[0], h_scale * scale[1])
        results['img_shape'] = content
        if content != (new_h, new_w):
            results['pad_shape'] = (new_h, new_w)

    @staticmethod
    def _check_instances(results: dict) -> None:
        """ValueError for what the albumentations call would drop or leave behind: masks without boxes (every mask
        went, the labels stayed), masks and boxes of other counts (truncated), a semantic map or keypoints (left
        where they were)."""
        where = results.get('img_path', 'the sample')
        boxes, masks = results.get('gt_bboxes'), results.get('gt_masks')
        if (masks is not None or results.get(INSTANCE_MAP) is not None) and boxes is None:
            raise ValueError(f'DetAlbu: {where} has instance masks but no gt_bboxes; DetAlbu keeps instances by '
                             f'their boxes (LoadDetAnnotations loads them)')
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
