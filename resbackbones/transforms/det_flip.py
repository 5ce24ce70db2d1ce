"""mmcv's ``RandomFlip``, also flipping instance masks: mmdet configs name it, and mmcv's own leaves masks as they were.

mmcv flips the image, boxes, keypoints and ``gt_seg_map``; ``gt_masks`` (N, H, W) and ``gt_instance_map`` (H, W)
would stay unflipped under flipped boxes, and Mask R-CNN would learn from the wrong masks without a word. This
``RandomFlip`` (the name a config's ``dict(type='RandomFlip', prob=0.5)`` finds first) flips them with the image,
as mmdet's does; everything else is mmcv's.
"""
from __future__ import annotations

import mmcv.transforms
import numpy as np

from ..registry import TRANSFORMS
from .instance_map import KEY as INSTANCE_MAP

AXES = {'horizontal': (-1,), 'vertical': (-2,), 'diagonal': (-2, -1)}


@TRANSFORMS.register_module()
class RandomFlip(mmcv.transforms.RandomFlip):
    """``mmcv.transforms.RandomFlip`` (same arguments: ``prob``, ``direction``, ``swap_seg_labels``) that also flips
    ``gt_masks`` (N, H, W) and ``gt_instance_map`` (H, W) along with the image."""

    def _flip(self, results: dict) -> None:
        if results.get('landmarks') is not None:  # mmcv leaves them, and FaceAlign then warped the wrong region
            raise ValueError(f"RandomFlip on {results.get('img_path', 'a sample')}: its face 'landmarks' would stay "
                             f'where they were; put FaceAlign first and flip the aligned crop (insightface\'s order)')
        super()._flip(results)
        axes = AXES[results['flip_direction']]
        for key in ('gt_masks', INSTANCE_MAP):
            if results.get(key) is not None:
                results[key] = np.ascontiguousarray(np.flip(results[key], axes))
