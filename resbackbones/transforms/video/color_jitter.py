"""mmaction2's ``ColorJitter``: one random brightness, contrast, saturation and hue change for a whole clip."""
from __future__ import annotations

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .clip_checks import clip_of, set_clip

GREY = np.array([0.2989, 0.587, 0.114], dtype=np.float32)  # mmaction2's RGB -> grayscale weights


def _range(name: str, value, limit: float, base: float) -> tuple[float, float]:
    """A factor range: ``value`` as (base - value, base + value), or a (low, high) pair within base +- limit."""
    low, high = (value if isinstance(value, (tuple, list)) else (base - value, base + value))
    if not base - limit <= low <= high <= base + limit:
        raise ValueError(f'ColorJitter: {name} must give a range within [{base - limit}, {base + limit}]; '
                         f'got {value!r}')
    return float(low), float(high)


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Draw a brightness, contrast and saturation factor and a hue shift once per clip (numpy's global generator)
    and apply them to every frame, in an order drawn once when the transform is built (as mmaction2's).

    Args: brightness / contrast / saturation: a float v for factors in (1 - v, 1 + v), or a (low, high) pair, within
    [0, 2]; hue: v for a shift drawn in (-v, v), or a pair, within [-0.5, 0.5], applied as int(shift * 255) steps
    of OpenCV's 0-179 hue channel (so v = 0.5 moves up to about 0.7 of the circle, as in mmaction2). The arithmetic
    is mmaction2's: contrast blends with the frame's mean grey level, saturation with its grey image; except that
    the hue sum is taken in int32, where mmaction2's uint8 sum wraps at 256 before the modulo 180 for positive
    shifts above 76 steps (hue > 0.3; a negative offset made numpy 1.x's sum int16): equal at the default
    hue=0.1, different (and here the intended hue) above.
    """

    def __init__(self, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1):
        self.brightness = _range('brightness', brightness, 1, 1)
        self.contrast = _range('contrast', contrast, 1, 1)
        self.saturation = _range('saturation', saturation, 1, 1)
        self.hue = _range('hue', hue, 0.5, 0)
        self.order = np.random.permutation(4)

    def transform(self, results: dict) -> dict:
        imgs = clip_of(results, 'ColorJitter')
        if imgs.shape[-1] != 3:
            raise ValueError(f'ColorJitter needs RGB frames; got {imgs.shape[-1]} channels')
        factors = [np.random.uniform(*r) for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        out = imgs.astype(np.float32)
        for step in self.order:
            factor = factors[step]
            if step == 0 and factor != 1:
                out *= factor
            elif step == 1 and factor != 1:
                grey = (out @ GREY).mean(axis=(1, 2))[:, None, None, None]  # one mean per frame
                out = factor * out + (1 - factor) * grey
            elif step == 2 and factor != 1:
                out = factor * out + (1 - factor) * (out @ GREY)[..., None]
            elif step == 3 and factor != 0:
                out = self._shift_hue(out, int(factor * 255))
        return set_clip(results, np.clip(out, 0, 255).astype(np.uint8), 'ColorJitter')

    @staticmethod
    def _shift_hue(frames: np.ndarray, offset: int) -> np.ndarray:
        shifted = []
        for frame in np.clip(frames, 0, 255).astype(np.uint8):
            hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0].astype(np.int32) + offset) % 180
            shifted.append(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))
        return np.stack(shifted).astype(np.float32)
