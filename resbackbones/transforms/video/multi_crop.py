"""Several crops of every clip for testing: mmaction2's ``ThreeCrop`` and ``TenCrop``.

The crops are stacked along the frame axis, crop-major (all frames of crop 0, then crop 1 ...), as mmaction2 does,
so ``FormatShape`` splits them into clips and the recognizer averages the views of a video. TenCrop's mirrored
views of optical flow (``modality='Flow'``) have their x component negated, as ``Flip`` does in training; mmaction2
leaves it as it was.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .clip_checks import clip_of, crop_to_fit, pair, set_clip
from .flip import mirrored_flow


def _stack(results: dict, imgs: np.ndarray, offsets, w: int, h: int, flips: bool, owner: str) -> dict:
    moving = [key for key in ('keypoint', 'gt_bboxes', 'proposals') if results.get(key) is not None]
    if moving:  # several views of one set of coordinates: they stayed in full-frame pixels
        raise ValueError(f"{owner}: {results.get('filename') or results.get('frame_dir') or 'the sample'} carries "
                         f'{moving}, which {owner} cannot split over its crops; use CenterCrop for a single view')
    crops, boxes = [], []
    for x, y in offsets:
        crop = imgs[:, y:y + h, x:x + w]
        crops.append(crop)
        boxes += [[x, y, x + w, y + h]] * len(imgs)
        if flips:  # a mirrored flow frame's x motion points the other way, as Flip makes it in training
            mirrored = crop[:, :, ::-1]
            crops.append(mirrored_flow(mirrored, 'horizontal') if results.get('modality') == 'Flow' else mirrored)
            boxes += [[x, y, x + w, y + h]] * len(imgs)
    results['crop_bbox'] = np.array(boxes)
    return set_clip(results, np.concatenate(crops), owner)


@TRANSFORMS.register_module()
class ThreeCrop(BaseTransform):
    """Three crops along the long side (start, end, middle); ``crop_size`` must span the short side."""

    def __init__(self, crop_size: int | tuple[int, int]):
        self.crop_size = pair(crop_size, 'crop_size', 'ThreeCrop')

    def transform(self, results: dict) -> dict:
        imgs = clip_of(results, 'ThreeCrop')
        img_h, img_w = imgs.shape[1:3]
        w, h = self.crop_size
        crop_to_fit(results, imgs, w, h, 'ThreeCrop')
        if h == img_h:
            step = (img_w - w) // 2
            offsets = [(0, 0), (2 * step, 0), (step, 0)]
        elif w == img_w:
            step = (img_h - h) // 2
            offsets = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise ValueError(f'ThreeCrop: crop_size {w}x{h} must match the frame width or height ({img_w}x{img_h}); '
                             f"Resize the short side to it first (e.g. Resize(scale=(-1, {min(w, h)})))")
        return _stack(results, imgs, offsets, w, h, False, 'ThreeCrop')

    def __repr__(self) -> str:
        return f'ThreeCrop(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class TenCrop(BaseTransform):
    """The four corners and the centre, each followed by its horizontal flip (10 views)."""

    def __init__(self, crop_size: int | tuple[int, int]):
        self.crop_size = pair(crop_size, 'crop_size', 'TenCrop')

    def transform(self, results: dict) -> dict:
        imgs = clip_of(results, 'TenCrop')
        w, h = self.crop_size
        crop_to_fit(results, imgs, w, h, 'TenCrop')
        ws, hs = (imgs.shape[2] - w) // 4, (imgs.shape[1] - h) // 4
        offsets = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
        return _stack(results, imgs, offsets, w, h, True, 'TenCrop')

    def __repr__(self) -> str:
        return f'TenCrop(crop_size={self.crop_size})'
