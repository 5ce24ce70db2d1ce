"""mmaction2's ``PoseCompact``: move the frame to the box around every joint of the sample, padded.

PoseC3D crops the skeleton's surroundings away before resizing, so a small far-away person fills the heatmap as a
near one does. The box is one per sample (all persons, all frames), so motion across frames is kept.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .keypoints import image_shape, keypoints_of


def combine_quadruple(outer, inner) -> tuple[float, float, float, float]:
    """(x, y, w, h) of ``inner`` (fractions of ``outer``) as fractions of the original frame (mmaction2's rule)."""
    return (outer[0] + outer[2] * inner[0], outer[1] + outer[3] * inner[1], outer[2] * inner[2],
            outer[3] * inner[3])


@TRANSFORMS.register_module()
class PoseCompact(BaseTransform):
    """Shift ``keypoint`` into the tight box of its non-missing joints, grown by ``padding`` (0.25: 1.25x width and
    height about the same centre) and to ``hw_ratio``; ``img_shape`` becomes the box's size and ``crop_quadruple``
    records it. NaN coordinates become 0 (missing). A box under ``threshold`` pixels wide or high is left alone.

    Args:
        padding: growth of the tight box per side, as a fraction of its size (>= 0).
        threshold: minimum tight-box width and height in pixels.
        hw_ratio: height / width the box is grown to (a float, or a (low, high) range); None leaves it.
        allow_imgpad: the box may reach outside the frame (else clipped to it).
    """

    def __init__(self, padding: float = 0.25, threshold: int = 10, hw_ratio: float | tuple[float, float] | None = None,
                 allow_imgpad: bool = True):
        if not isinstance(padding, (int, float)) or isinstance(padding, bool) or padding < 0:
            raise ValueError(f'PoseCompact: padding must be a number >= 0; got {padding!r}')
        if hw_ratio is not None:
            hw_ratio = (hw_ratio, hw_ratio) if isinstance(hw_ratio, (int, float)) else tuple(hw_ratio)
            if len(hw_ratio) != 2 or not all(isinstance(r, (int, float)) and r > 0 for r in hw_ratio):
                raise ValueError(f'PoseCompact: hw_ratio must be a positive number or (low, high) pair; got '
                                 f'{hw_ratio!r}')
        self.padding, self.threshold, self.hw_ratio = float(padding), threshold, hw_ratio
        self.allow_imgpad = bool(allow_imgpad)

    def transform(self, results: dict) -> dict:
        kp = keypoints_of(results, 'PoseCompact')
        h, w = image_shape(results, 'PoseCompact')
        kp[np.isnan(kp)] = 0.
        kp_x, kp_y = kp[..., 0], kp[..., 1]
        min_x, max_x = np.min(kp_x[kp_x != 0], initial=np.inf), np.max(kp_x[kp_x != 0], initial=-np.inf)
        min_y, max_y = np.min(kp_y[kp_y != 0], initial=np.inf), np.max(kp_y[kp_y != 0], initial=-np.inf)
        if max_x - min_x < self.threshold or max_y - min_y < self.threshold:
            return results
        center = ((max_x + min_x) / 2, (max_y + min_y) / 2)
        half_w = (max_x - min_x) / 2 * (1 + self.padding)
        half_h = (max_y - min_y) / 2 * (1 + self.padding)
        if self.hw_ratio is not None:
            half_h = max(self.hw_ratio[0] * half_w, half_h)
            half_w = max(1 / self.hw_ratio[1] * half_h, half_w)
        min_x, max_x = center[0] - half_w, center[0] + half_w
        min_y, max_y = center[1] - half_h, center[1] + half_h
        if self.allow_imgpad:
            min_x, min_y, max_x, max_y = int(min_x), int(min_y), int(max_x), int(max_y)
        else:
            min_x, min_y = int(max(0, min_x)), int(max(0, min_y))
            max_x, max_y = int(min(w, max_x)), int(min(h, max_y))
        kp_x[kp_x != 0] -= min_x
        kp_y[kp_y != 0] -= min_y
        results['keypoint'] = kp
        results['img_shape'] = (max_y - min_y, max_x - min_x)
        results['crop_quadruple'] = combine_quadruple(
            results.get('crop_quadruple', (0., 0., 1., 1.)),
            (min_x / w, min_y / h, (max_x - min_x) / w, (max_y - min_y) / h))
        return results

    def __repr__(self) -> str:
        return (f'PoseCompact(padding={self.padding}, threshold={self.threshold}, hw_ratio={self.hw_ratio}, '
                f'allow_imgpad={self.allow_imgpad})')
