"""mmaction2's ``Flip``: mirror every frame of a clip together (or none of them)."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .clip_checks import clip_of, set_clip

DIRECTIONS = ('horizontal', 'vertical')


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """With probability ``flip_ratio`` flip all frames along ``direction``; records ``flip`` and
    ``flip_direction``. One draw per clip (numpy's global generator, as mmaction2)."""

    def __init__(self, flip_ratio: float = 0.5, direction: str = 'horizontal'):
        if not 0 <= flip_ratio <= 1:
            raise ValueError(f'Flip: flip_ratio must be in [0, 1]; got {flip_ratio!r}')
        if direction not in DIRECTIONS:
            raise ValueError(f'Flip: direction must be one of {DIRECTIONS}; got {direction!r}')
        self.flip_ratio, self.direction = float(flip_ratio), direction

    def transform(self, results: dict) -> dict:
        imgs = clip_of(results, 'Flip')
        flip = bool(np.random.rand() < self.flip_ratio)
        if flip:
            imgs = imgs[:, :, ::-1] if self.direction == 'horizontal' else imgs[:, ::-1]
        results.update(flip=flip, flip_direction=self.direction)
        return set_clip(results, imgs, 'Flip')

    def __repr__(self) -> str:
        return f'Flip(flip_ratio={self.flip_ratio}, direction={self.direction!r})'
