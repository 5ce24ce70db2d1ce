"""Resize an image with its boxes and masks, keeping the aspect ratio within a (long, short) scale (mmdet's Resize)."""
from __future__ import annotations

import random
from typing import Sequence

import cv2
from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .instance_map import KEY as INSTANCE_MAP


def rescale_size(height: int, width: int, scale: Sequence[int], keep_ratio: bool) -> tuple[int, int]:
    """(new_h, new_w). keep_ratio: largest size with long edge <= max(scale) and short edge <= min(scale);
    else exactly scale = (w, h). Rounds like mmcv.rescale_size."""
    if not keep_ratio:
        return int(scale[1]), int(scale[0])
    factor = min(max(scale) / max(height, width), min(scale) / min(height, width))
    return int(height * factor + 0.5), int(width * factor + 0.5)


@TRANSFORMS.register_module()
class DetResize(BaseTransform):
    """Resize ``img``, ``gt_bboxes`` and ``gt_masks`` (or ``gt_instance_map``) together; record ``img_shape`` and
    ``scale_factor`` (w, h).

    Args:
        scale: (w, h) such as (1333, 800), or a list of them to pick one at random per image (multi-scale
            training); an int ``s`` is (s, s), as mmcv's Resize.
        keep_ratio: keep the aspect ratio (scale bounds the long and short edges) or resize to exactly (w, h).
    Images use bilinear interpolation, masks nearest; boxes are scaled and clipped to the new image.
    """

    def __init__(self, scale: Sequence[int] | Sequence[Sequence[int]], keep_ratio: bool = True):
        if isinstance(scale, int) and not isinstance(scale, bool):
            scale = (scale, scale)
        if not isinstance(scale, (list, tuple)) or not scale:
            raise ValueError(f'DetResize: scale must be (w, h) of positive ints or a list of them; got {scale!r}')
        scales = [scale] if isinstance(scale[0], (int, float)) else list(scale)
        if not scales or not all(len(s) == 2 and all(isinstance(v, int) and v > 0 for v in s) for s in scales):
            raise ValueError(f'DetResize: scale must be (w, h) of positive ints or a list of them; got {scale!r}')
        self.scales, self.keep_ratio = [tuple(s) for s in scales], keep_ratio

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        scale = self.scales[0] if len(self.scales) == 1 else random.choice(self.scales)
        new_h, new_w = rescale_size(height, width, scale, self.keep_ratio)
        if (new_h, new_w) != (height, width):
            out = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            img = out[..., None] if out.ndim == 2 else out
        w_scale, h_scale = new_w / width, new_h / height
        if 'gt_bboxes' in results:
            boxes = results['gt_bboxes'] * np.array([w_scale, h_scale, w_scale, h_scale], dtype=np.float32)
            boxes[:, 0::2] = boxes[:, 0::2].clip(0, new_w)
            boxes[:, 1::2] = boxes[:, 1::2].clip(0, new_h)
            results['gt_bboxes'] = boxes
        if 'gt_masks' in results:
            masks = results['gt_masks']
            results['gt_masks'] = (np.stack([cv2.resize(m, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
                                             for m in masks]) if len(masks) else np.zeros((0, new_h, new_w), np.uint8))
        if INSTANCE_MAP in results:
            results[INSTANCE_MAP] = cv2.resize(results[INSTANCE_MAP], (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        # as mmcv's Resize: a semantic map and keypoints move with the image (they stayed at the old size)
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = cv2.resize(results['gt_seg_map'], (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        if results.get('gt_keypoints') is not None:
            points = np.array(results['gt_keypoints'], dtype=np.float32, copy=True)
            points[..., 0] *= w_scale
            points[..., 1] *= h_scale
            results['gt_keypoints'] = points
        results['img'], results['img_shape'] = img, (new_h, new_w)
        # relative to the original image: after another resize (DetAlbu's, a second DetResize) the factor
        # compounds, or boxes mapped back through a Pad came back at the wrong size
        before_w, before_h = results.get('scale_factor', (1.0, 1.0))[:2]
        results['scale_factor'] = (before_w * w_scale, before_h * h_scale)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale={self.scales!r}, keep_ratio={self.keep_ratio})'
