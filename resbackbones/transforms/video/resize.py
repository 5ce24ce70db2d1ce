"""mmaction2's clip ``Resize``: every frame of a clip (and its keypoints or person boxes) to one size (short side,
fit-within, factor or exact); ``RandomRescale``: the short side to a random length."""
from __future__ import annotations

import math

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .boxes import resize_boxes
from .clip_checks import frame_size, frames_of, set_clip
from .keypoints import resize_keypoints

INTERPOLATIONS = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR, 'bicubic': cv2.INTER_CUBIC,
                  'area': cv2.INTER_AREA, 'lanczos': cv2.INTER_LANCZOS4}


def rescale_size(width: int, height: int, scale) -> tuple[int, int]:
    """(w, h) keeping the aspect ratio, mmcv's ``rescale_size``: a float scales; a pair (long, short) is the
    largest size within both edges; -1 leaves an edge free, so (-1, 256) resizes the short side to 256."""
    if isinstance(scale, float):
        factor = scale
    else:
        long, short = (math.inf, max(scale)) if min(scale) == -1 else (max(scale), min(scale))
        factor = min(long / max(width, height), short / min(width, height))
    return int(width * factor + 0.5), int(height * factor + 0.5)


@TRANSFORMS.register_module(name='ClipResize')
class ClipResize(BaseTransform):
    """Resize ``results['imgs']`` (mmaction2's ``Resize``; configs say ``dict(type='Resize', scale=...)``).

    Args:
        scale: with keep_ratio, a float factor or (w, h) bounds where -1 frees an edge: (-1, 256) = short side
            256; without keep_ratio, the exact (w, h).
        keep_ratio: keep the aspect ratio. interpolation: 'bilinear' (cv2, as mmcv), 'nearest', 'bicubic', 'area',
            'lanczos'.
    """

    def __init__(self, scale: float | tuple[int, int], keep_ratio: bool = True, interpolation: str = 'bilinear'):
        ok = (isinstance(scale, float) and scale > 0) or (
            isinstance(scale, (tuple, list)) and len(scale) == 2 and all(isinstance(s, int) for s in scale)
            and (min(scale) > 0 or (keep_ratio and min(scale) == -1 and max(scale) > 0)))
        if not ok:
            raise ValueError(f'Resize: scale must be a positive float or a (w, h) pair of positive ints ((-1, short) '
                             f'with keep_ratio); got {scale!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'Resize: interpolation must be one of {sorted(INTERPOLATIONS)}; got {interpolation!r}')
        if isinstance(scale, float) and not keep_ratio:
            raise ValueError('Resize: a float scale needs keep_ratio=True')
        self.scale = scale if isinstance(scale, float) else tuple(scale)
        self.keep_ratio, self.interpolation = bool(keep_ratio), interpolation

    def transform(self, results: dict) -> dict:
        h, w = frame_size(results, 'Resize')
        new_w, new_h = rescale_size(w, h, self.scale) if self.keep_ratio else self.scale
        factor = np.array([new_w / w, new_h / h], np.float32)
        results['scale_factor'] = factor * results.get('scale_factor', 1)
        results['keep_ratio'] = self.keep_ratio
        resize_keypoints(results, factor)
        resize_boxes(results, factor)
        imgs = frames_of(results, 'Resize')
        if imgs is None:
            results['img_shape'] = (new_h, new_w)
            return results
        if (new_h, new_w) != (h, w):
            flag = INTERPOLATIONS[self.interpolation]
            out = np.empty((len(imgs), new_h, new_w, imgs.shape[3]), imgs.dtype)
            for i, frame in enumerate(imgs):
                out[i] = cv2.resize(frame, (new_w, new_h), interpolation=flag).reshape(new_h, new_w, -1)
            imgs = out
        return set_clip(results, imgs, 'Resize')

    def __repr__(self) -> str:
        return f'Resize(scale={self.scale}, keep_ratio={self.keep_ratio}, interpolation={self.interpolation!r})'


@TRANSFORMS.register_module()
class RandomRescale(BaseTransform):
    """Resize the clip's short side to a length drawn uniformly from ``scale_range`` (both ends included; numpy's
    global generator, as mmaction2), keeping the aspect ratio; records ``short_edge``.

    Args:
        scale_range: (low, high) short-side lengths, low < high. interpolation: as ``Resize``'s.
    """

    def __init__(self, scale_range: tuple[int, int], interpolation: str = 'bilinear'):
        if not (isinstance(scale_range, (tuple, list)) and len(scale_range) == 2
                and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in scale_range)
                and scale_range[0] < scale_range[1]):
            raise ValueError(f'RandomRescale: scale_range must be (low, high) positive ints with low < high; got '
                             f'{scale_range!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'RandomRescale: interpolation must be one of {sorted(INTERPOLATIONS)}; got '
                             f'{interpolation!r}')
        self.scale_range, self.interpolation = tuple(scale_range), interpolation

    def transform(self, results: dict) -> dict:
        short_edge = int(np.random.randint(self.scale_range[0], self.scale_range[1] + 1))
        results = ClipResize((-1, short_edge), keep_ratio=True, interpolation=self.interpolation)(results)
        results['short_edge'] = short_edge
        return results

    def __repr__(self) -> str:
        return f'RandomRescale(scale_range={self.scale_range}, interpolation={self.interpolation!r})'
