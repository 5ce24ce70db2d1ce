"""mmaction2's ``PoseCompact`` and ``MMCompact``: move the frame to the box around every joint of the sample, padded.

PoseC3D crops the skeleton's surroundings away before resizing, so a small far-away person fills the heatmap as a
near one does. The box is one per sample (all persons, all frames), so motion across frames is kept. ``MMCompact``
(RGB + pose, RGBPoseConv3D) crops the frames to the same box, with black where the box leaves the frame.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .clip_checks import clip_of
from .keypoints import image_shape, keypoints_of, sample_name


def combine_quadruple(outer, inner) -> tuple[float, float, float, float]:
    """(x, y, w, h) of ``inner`` (fractions of ``outer``) as fractions of the original frame (mmaction2's rule)."""
    return (outer[0] + outer[2] * inner[0], outer[1] + outer[3] * inner[1], outer[2] * inner[2],
            outer[3] * inner[3])


def compact_box(kp: np.ndarray, h: int, w: int, padding: float, threshold: float,
                hw_ratio: tuple[float, float] | None, allow_imgpad: bool,
                where: str = 'the sample') -> tuple[int, int, int, int] | None:
    """(min_x, min_y, max_x, max_y) integer box around the non-zero coordinates of ``kp`` in an h x w frame, grown
    by ``padding`` and to ``hw_ratio`` (mmaction2's arithmetic, see ``PoseCompact``); None when the tight box is
    under ``threshold`` pixels wide or high. ValueError naming ``where`` when, kept inside the frame, the box is
    empty: every joint lies outside it (keypoints in another resolution than img_shape)."""
    kp_x, kp_y = kp[..., 0], kp[..., 1]
    min_x, max_x = np.min(kp_x[kp_x != 0], initial=np.inf), np.max(kp_x[kp_x != 0], initial=-np.inf)
    min_y, max_y = np.min(kp_y[kp_y != 0], initial=np.inf), np.max(kp_y[kp_y != 0], initial=-np.inf)
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return None
    center = ((max_x + min_x) / 2, (max_y + min_y) / 2)
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_h = max(hw_ratio[0] * half_w, half_h)
        half_w = max(1 / hw_ratio[1] * half_h, half_w)
    min_x, max_x = center[0] - half_w, center[0] + half_w
    min_y, max_y = center[1] - half_h, center[1] + half_h
    if allow_imgpad:
        return int(min_x), int(min_y), int(max_x), int(max_y)
    box = int(max(0, min_x)), int(max(0, min_y)), int(min(w, max_x)), int(min(h, max_y))
    if box[2] <= box[0] or box[3] <= box[1]:  # a negative img_shape went on to fail in Resize, blaming the data
        raise ValueError(f'{where}: the keypoints lie outside the {w}x{h} (w x h) frame of img_shape (their box '
                         f'{min_x:.0f}, {min_y:.0f} .. {max_x:.0f}, {max_y:.0f}): are they in another resolution?')
    return box


def shift_keypoints(kp: np.ndarray, x: int, y: int) -> None:
    """Move the seen (non-zero) coordinates of ``kp`` into a frame whose top-left corner is (x, y), in place."""
    kp_x, kp_y = kp[..., 0], kp[..., 1]
    kp_x[kp_x != 0] -= x
    kp_y[kp_y != 0] -= y


def crop_with_zeros(imgs: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(M, H, W, C) frames cut to ``box`` (min_x, min_y, max_x, max_y), zero where it leaves them (as mmaction2's
    np.pad then slice, without padding the whole frame)."""
    min_x, min_y, max_x, max_y = box
    h, w = imgs.shape[1:3]
    out = np.zeros((len(imgs), max_y - min_y, max_x - min_x) + imgs.shape[3:], imgs.dtype)
    x1, y1, x2, y2 = max(min_x, 0), max(min_y, 0), min(max_x, w), min(max_y, h)
    if x1 < x2 and y1 < y2:
        out[:, y1 - min_y:y2 - min_y, x1 - min_x:x2 - min_x] = imgs[:, y1:y2, x1:x2]
    return out


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
        owner = type(self).__name__
        if not isinstance(padding, (int, float)) or isinstance(padding, bool) or padding < 0:
            raise ValueError(f'{owner}: padding must be a number >= 0; got {padding!r}')
        if hw_ratio is not None:
            hw_ratio = (hw_ratio, hw_ratio) if isinstance(hw_ratio, (int, float)) else tuple(hw_ratio)
            if len(hw_ratio) != 2 or not all(isinstance(r, (int, float)) and r > 0 for r in hw_ratio):
                raise ValueError(f'{owner}: hw_ratio must be a positive number or (low, high) pair; got {hw_ratio!r}')
        self.padding, self.threshold, self.hw_ratio = float(padding), threshold, hw_ratio
        self.allow_imgpad = bool(allow_imgpad)

    def box(self, kp: np.ndarray, h: int, w: int, where: str) -> tuple[int, int, int, int] | None:
        return compact_box(kp, h, w, self.padding, self.threshold, self.hw_ratio, self.allow_imgpad, where)

    def transform(self, results: dict) -> dict:
        kp = keypoints_of(results, 'PoseCompact')
        h, w = image_shape(results, 'PoseCompact')
        kp[np.isnan(kp)] = 0.
        box = self.box(kp, h, w, f'PoseCompact: {sample_name(results)}')
        if box is None:
            return results
        min_x, min_y, max_x, max_y = box
        shift_keypoints(kp, min_x, min_y)
        results['keypoint'] = kp
        results['img_shape'] = (max_y - min_y, max_x - min_x)
        results['crop_quadruple'] = combine_quadruple(
            results.get('crop_quadruple', (0., 0., 1., 1.)),
            (min_x / w, min_y / h, (max_x - min_x) / w, (max_y - min_y) / h))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(padding={self.padding}, threshold={self.threshold}, '
                f'hw_ratio={self.hw_ratio}, allow_imgpad={self.allow_imgpad})')


@TRANSFORMS.register_module()
class MMCompact(PoseCompact):
    """``PoseCompact``'s box applied to the frames too (RGB + pose): ``imgs`` are cut to the box, black where it
    leaves them, ``keypoint`` shifted into it and ``img_shape`` = its size. A box under ``threshold`` is the whole
    frame (keypoints and frames stay). ``crop_quadruple`` is not touched, as in mmaction2. Arguments as
    ``PoseCompact``'s; ``hw_ratio`` defaults to 1 (square, mmaction2's default here).
    """

    def __init__(self, padding: float = 0.25, threshold: int = 10, hw_ratio: float | tuple[float, float] | None = 1,
                 allow_imgpad: bool = True):
        super().__init__(padding=padding, threshold=threshold, hw_ratio=hw_ratio, allow_imgpad=allow_imgpad)

    def transform(self, results: dict) -> dict:
        kp = keypoints_of(results, 'MMCompact')
        h, w = image_shape(results, 'MMCompact')
        imgs = clip_of(results, 'MMCompact')
        if imgs.shape[1:3] != (h, w):
            raise ValueError(f'MMCompact: the frames of {sample_name(results)} are {imgs.shape[2]}x{imgs.shape[1]} '
                             f'(w x h) but img_shape, the frame of the keypoints, is {w}x{h}; put MMDecode first '
                             f'(it rescales the keypoints to the video)')
        kp = np.where(np.isnan(kp), 0, kp)
        min_x, min_y, max_x, max_y = self.box(kp, h, w, f'MMCompact: {sample_name(results)}') or (0, 0, w, h)
        shift_keypoints(kp, min_x, min_y)
        results['keypoint'] = kp
        results['imgs'] = crop_with_zeros(imgs, (min_x, min_y, max_x, max_y))
        results['img_shape'] = (max_y - min_y, max_x - min_x)
        return results
