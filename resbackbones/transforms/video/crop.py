"""One crop box for every frame of a clip: mmaction2's ``RandomCrop``, ``RandomResizedCrop``, ``MultiScaleCrop``,
``CenterCrop``.

The box is chosen once per clip (the same pixels of every frame, so motion is not faked by jitter) with mmaction2's
arithmetic and random calls (numpy for sizes, Python's ``random`` for offsets), recorded as ``crop_bbox`` (x1, y1,
x2, y2). Keypoints and person boxes (AVA: clipped to the crop) move with the box, and ``crop_quadruple`` composes
with it (boxes.py); a keypoint-only sample (PoseC3D) crops its ``img_shape``. Resizing to the network size is a
separate ``Resize(scale=(224, 224), keep_ratio=False)``, as in mmaction2.
"""
from __future__ import annotations

import random

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .boxes import crop_boxes, crop_quadruple
from .clip_checks import crop_to_fit, frame_size, frames_of, pair, set_clip
from .keypoints import crop_keypoints


def _apply(results: dict, imgs: np.ndarray | None, x: int, y: int, w: int, h: int, owner: str) -> dict:
    """Crop the frames (``imgs`` None for a keypoint-only sample), keypoints and boxes to the box (x, y, w, h)."""
    height, width = frame_size(results, owner)
    results['crop_bbox'] = np.array([x, y, x + w, y + h])
    crop_quadruple(results, x, y, w, h, height, width)
    crop_keypoints(results, x, y)
    crop_boxes(results, x, y, x + w, y + h)
    if imgs is None:
        results['img_shape'] = (h, w)
        return results
    return set_clip(results, imgs[:, y:y + h, x:x + w], owner)


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """A random ``size`` x ``size`` box (mmaction2's ``RandomCrop``: numpy offsets, y first, each drawn from
    [0, free pixels), so the last offset is never drawn, as there).

    Args:
        size: side of the square crop. lazy: only False (mmaction2's deferred cropping, ``Fuse``, is not provided).
    """

    def __init__(self, size: int, lazy: bool = False):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f'RandomCrop: size must be a positive int; got {size!r}')
        if lazy:
            raise ValueError('RandomCrop: lazy=True is not supported (no Fuse transform here); crops apply at once')
        self.size = size

    def transform(self, results: dict) -> dict:
        height, width = frame_size(results, 'RandomCrop')
        imgs = frames_of(results, 'RandomCrop')
        if self.size > height or self.size > width:
            where = results.get('frame_dir') or results.get('filename') or 'the sample'
            raise ValueError(f'RandomCrop: crop {self.size}x{self.size} is larger than the frames {width}x{height} '
                             f'(w x h) of {where}; Resize first')
        y = int(np.random.randint(0, height - self.size)) if height > self.size else 0
        x = int(np.random.randint(0, width - self.size)) if width > self.size else 0
        return _apply(results, imgs, x, y, self.size, self.size, 'RandomCrop')

    def __repr__(self) -> str:
        return f'RandomCrop(size={self.size}, lazy=False)'


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """A random box of ``area_range`` of the frame area and ``aspect_ratio_range`` w/h; 10 tries, else the centre
    square (mmaction2's fallback)."""

    def __init__(self, area_range: tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3)):
        if not (len(area_range) == 2 and 0 < area_range[0] <= area_range[1] <= 1):
            raise ValueError(f'RandomResizedCrop: area_range must be (low, high) with 0 < low <= high <= 1; '
                             f'got {area_range!r}')
        if not (len(aspect_ratio_range) == 2 and 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]):
            raise ValueError(f'RandomResizedCrop: aspect_ratio_range must be (low, high) with 0 < low <= high; '
                             f'got {aspect_ratio_range!r}')
        self.area_range, self.aspect_ratio_range = tuple(area_range), tuple(aspect_ratio_range)

    @staticmethod
    def crop_box(height: int, width: int, area_range, aspect_ratio_range, tries: int = 10) -> tuple[int, ...]:
        """(x, y, w, h) drawn as mmaction2's ``get_crop_bbox``."""
        ratios = np.exp(np.random.uniform(np.log(aspect_ratio_range[0]), np.log(aspect_ratio_range[1]), size=tries))
        areas = np.random.uniform(*area_range, size=tries) * height * width
        ws = np.round(np.sqrt(areas * ratios)).astype(np.int32)
        hs = np.round(np.sqrt(areas / ratios)).astype(np.int32)
        for w, h in zip(ws.tolist(), hs.tolist()):
            if h <= height and w <= width:
                x, y = random.randint(0, width - w), random.randint(0, height - h)
                return x, y, w, h
        side = min(height, width)
        return (width - side) // 2, (height - side) // 2, side, side

    def transform(self, results: dict) -> dict:
        height, width = frame_size(results, 'RandomResizedCrop')
        box = self.crop_box(height, width, self.area_range, self.aspect_ratio_range)
        return _apply(results, frames_of(results, 'RandomResizedCrop'), *box, 'RandomResizedCrop')

    def __repr__(self) -> str:
        return f'RandomResizedCrop(area_range={self.area_range}, aspect_ratio_range={self.aspect_ratio_range})'


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """TSN's corner/centre crops at several scales of the short side (mmaction2's ``MultiScaleCrop``).

    Args:
        input_size: (w, h) the network takes; crop sizes within 3 pixels of it snap to it.
        scales: fractions of the short side for the crop's w and h; max_wh_scale_gap: how many scale steps w and h
            may differ. random_crop: any offset instead of the fixed ones; num_fixed_crops: 5 (corners, centre) or
            13 (also edge centres and quarter points).
    """

    def __init__(self, input_size: int | tuple[int, int], scales: tuple[float, ...] = (1,), max_wh_scale_gap: int = 1,
                 random_crop: bool = False, num_fixed_crops: int = 5):
        self.input_size = pair(input_size, 'input_size', 'MultiScaleCrop')
        if not isinstance(scales, (tuple, list)) or not scales or not all(0 < s <= 1 for s in scales):
            raise ValueError(f'MultiScaleCrop: scales must be a tuple of fractions in (0, 1]; got {scales!r}')
        if num_fixed_crops not in (5, 13):
            raise ValueError(f'MultiScaleCrop: num_fixed_crops must be 5 or 13; got {num_fixed_crops!r}')
        self.scales, self.max_wh_scale_gap = tuple(scales), int(max_wh_scale_gap)
        self.random_crop, self.num_fixed_crops = bool(random_crop), num_fixed_crops

    def transform(self, results: dict) -> dict:
        img_h, img_w = frame_size(results, 'MultiScaleCrop')  # a keypoint-only sample (PoseC3D): its img_shape
        imgs = frames_of(results, 'MultiScaleCrop')
        sizes = [int(min(img_h, img_w) * s) for s in self.scales]
        candidates = [[w, h] for i, h in enumerate(sizes) for j, w in enumerate(sizes)
                      if abs(i - j) <= self.max_wh_scale_gap]
        crop = random.choice(candidates)
        for k in range(2):
            if abs(crop[k] - self.input_size[k]) < 3:
                crop[k] = self.input_size[k]
        crop_w, crop_h = crop
        if imgs is not None:
            crop_to_fit(results, imgs, crop_w, crop_h, 'MultiScaleCrop')
        if self.random_crop:
            x, y = random.randint(0, img_w - crop_w), random.randint(0, img_h - crop_h)
        else:
            ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
            offsets = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
            if self.num_fixed_crops == 13:
                offsets += [(0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0), (ws, hs), (3 * ws, hs),
                            (ws, 3 * hs), (3 * ws, 3 * hs)]
            x, y = random.choice(offsets)
        results['scales'] = self.scales
        return _apply(results, imgs, x, y, crop_w, crop_h, 'MultiScaleCrop')

    def __repr__(self) -> str:
        return (f'MultiScaleCrop(input_size={self.input_size}, scales={self.scales}, '
                f'max_wh_scale_gap={self.max_wh_scale_gap}, random_crop={self.random_crop})')


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """The centre box of ``crop_size`` (w, h) (or an int for a square); offsets rounded down as mmaction2.

    The name is also mmcv's image ``CenterCrop``, which an mmpretrain or mmdet pipeline means: a sample with an
    ``img`` and no clip (``imgs``) goes to mmcv's transform (boxes, masks and keypoints cropped with it)."""

    def __init__(self, crop_size: int | tuple[int, int]):
        self.crop_size = pair(crop_size, 'crop_size', 'CenterCrop')

    def transform(self, results: dict) -> dict:
        if 'imgs' not in results and 'img' in results:
            from mmcv.transforms import CenterCrop as ImageCenterCrop
            return ImageCenterCrop(crop_size=self.crop_size)(results)
        height, width = frame_size(results, 'CenterCrop')
        imgs, (w, h) = frames_of(results, 'CenterCrop'), self.crop_size
        if imgs is not None:  # keypoints alone may be cropped past the frame (mmaction2 pads PoseC3D's this way)
            crop_to_fit(results, imgs, w, h, 'CenterCrop')
        return _apply(results, imgs, (width - w) // 2, (height - h) // 2, w, h, 'CenterCrop')

    def __repr__(self) -> str:
        return f'CenterCrop(crop_size={self.crop_size})'
