"""Shared checks of the clip transforms: the (M, H, W, C) frame array and (w, h) size arguments.

A pose sample (PoseC3D) has ``keypoint`` and ``img_shape`` but no frames: the geometric transforms then move the
keypoints alone, as mmaction2's do.
"""
from __future__ import annotations

import numpy as np

from .keypoints import image_shape


def clip_of(results: dict, owner: str) -> np.ndarray:
    """``results['imgs']`` as an (M, H, W, C) array; ValueError names the sample and what to put first."""
    imgs = results.get('imgs')
    if isinstance(imgs, list) and imgs:  # mmaction2 keeps a list of frames; accept it
        imgs = np.stack(imgs)
    if imgs is None and 'img' in results:  # mmcv's / mmpretrain's Resize(scale=...) in an image pipeline
        where = results.get('img_path') or 'the sample'
        raise ValueError(f"{owner} with mmaction2's arguments transforms video clips (results['imgs']), but {where} "
                         f"is an image (results['img']): for images use Resize(size=...) (an int shorter edge or "
                         f"(h, w)), for detection DetResize(scale=...)")
    if not isinstance(imgs, np.ndarray) or imgs.ndim != 4:
        got = f'shape {imgs.shape}' if isinstance(imgs, np.ndarray) else type(imgs).__name__
        where = results.get('filename') or results.get('frame_dir') or 'the sample'
        raise ValueError(f"{owner} needs results['imgs'] as (frames, H, W, C) (put PyAVDecode or RawFrameDecode "
                         f'first); got {got} for {where}')
    return imgs


def frame_size(results: dict, owner: str) -> tuple[int, int]:
    """(h, w) of the frames, or of ``img_shape`` for a keypoint-only sample."""
    if 'imgs' not in results and 'keypoint' in results:
        return image_shape(results, owner)
    return clip_of(results, owner).shape[1:3]


def frames_of(results: dict, owner: str) -> np.ndarray | None:
    """The clip's (M, H, W, C) frames, or None for a keypoint-only sample."""
    return None if 'imgs' not in results and 'keypoint' in results else clip_of(results, owner)


def pair(value, name: str, owner: str) -> tuple[int, int]:
    """An int or (w, h) pair of positive ints, as mmaction2's ``_pair``."""
    try:
        w, h = (value, value) if isinstance(value, int) else tuple(value)
    except (TypeError, ValueError):
        raise ValueError(f'{owner}: {name} must be a positive int or (w, h) pair; got {value!r}') from None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (w, h)):
        raise ValueError(f'{owner}: {name} must be a positive int or (w, h) pair; got {value!r}')
    return int(w), int(h)


def set_clip(results: dict, imgs: np.ndarray, owner: str) -> dict:
    results['imgs'] = np.ascontiguousarray(imgs)
    results['img_shape'] = imgs.shape[1:3]
    return results


def crop_to_fit(results: dict, imgs: np.ndarray, crop_w: int, crop_h: int, owner: str) -> None:
    if crop_w > imgs.shape[2] or crop_h > imgs.shape[1]:
        where = results.get('filename') or results.get('frame_dir') or 'the sample'
        raise ValueError(f'{owner}: crop {crop_w}x{crop_h} (w x h) is larger than the frames '
                         f'{imgs.shape[2]}x{imgs.shape[1]} of {where}; Resize first')
