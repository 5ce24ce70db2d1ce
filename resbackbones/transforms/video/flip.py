"""mmaction2's ``Flip``: mirror every frame of a clip together (or none of them)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .boxes import flip_boxes
from .clip_checks import frame_size, frames_of, set_clip
from .keypoints import flip_keypoints

DIRECTIONS = ('horizontal', 'vertical')


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """With probability ``flip_ratio`` flip all frames along ``direction``; records ``flip`` and
    ``flip_direction``. One draw per clip (numpy's global generator, as mmaction2).

    ``flip_label_map``: classes whose meaning a flip mirrors, e.g. Something-Something's "pushing left to right"
    and "right to left" ({86: 87, 87: 86, ...} in mmaction2's sthv2 configs). A flipped clip's label (``label``
    and ``gt_label``: a class index, a list of them, or a multi-hot vector) moves to the mapped class, so flipping
    never leaves a clip with the wrong label.

    Keypoints (PoseC3D; frames optional) mirror about the frame width, missing joints (x = 0) staying put, and
    ``left_kp``/``right_kp`` joints swap with their scores (COCO's 17 joints: left 1, 3, ..., 15, right 2, ..., 16).

    Person boxes (AVA's ``gt_bboxes`` / ``proposals``, pixels) mirror about the frame width with mmaction2's formula
    (x1' = width - x2); they flip horizontally only.

    Optical flow (``modality='Flow'``: (x, y) channels stored as uint8 around 128, denseflow's encoding) mirrors
    with its motion: a horizontal flip negates the x component (255 - x, mmcv's ``iminvert``), a vertical one the
    y component. mmaction2 1.x inverts both channels of every other frame instead (its 0.x rule for separate x / y
    frames, kept after frames became (x, y) pairs), which reverses the vertical motion of half the frames and
    leaves the horizontal motion of the other half unmirrored; this follows the motion.
    """

    def __init__(self, flip_ratio: float = 0.5, direction: str = 'horizontal',
                 flip_label_map: dict[int, int] | None = None, left_kp: Sequence[int] | None = None,
                 right_kp: Sequence[int] | None = None):
        if not 0 <= flip_ratio <= 1:
            raise ValueError(f'Flip: flip_ratio must be in [0, 1]; got {flip_ratio!r}')
        if direction not in DIRECTIONS:
            raise ValueError(f'Flip: direction must be one of {DIRECTIONS}; got {direction!r}')
        if flip_label_map is not None and (not isinstance(flip_label_map, dict) or not all(
                _is_class(k) and _is_class(v) for k, v in flip_label_map.items())):
            raise ValueError(f'Flip: flip_label_map must map class indices to class indices (ints >= 0); got '
                             f'{flip_label_map!r}')
        if (left_kp is None) != (right_kp is None) or (left_kp is not None and len(left_kp) != len(right_kp)):
            raise ValueError(f'Flip: left_kp and right_kp must be given together and pair up; got {left_kp!r} and '
                             f'{right_kp!r}')
        self.flip_ratio, self.direction = float(flip_ratio), direction
        self.left_kp = tuple(left_kp) if left_kp is not None else None
        self.right_kp = tuple(right_kp) if right_kp is not None else None
        self.flip_label_map = {int(k): int(v) for k, v in flip_label_map.items()} if flip_label_map else None

    def transform(self, results: dict) -> dict:
        if 'keypoint' in results and self.direction != 'horizontal':
            raise ValueError(f"Flip: keypoints flip horizontally only (left and right joints swap); got direction="
                             f"{self.direction!r}")
        if 'gt_bboxes' in results and self.direction != 'horizontal':
            raise ValueError(f"Flip: person boxes flip horizontally only (mmaction2's rule); got direction="
                             f"{self.direction!r} for {results.get('img_key', 'the sample')}")
        width = frame_size(results, 'Flip')[1]
        imgs = frames_of(results, 'Flip')
        flip = bool(np.random.rand() < self.flip_ratio)
        if flip:
            if imgs is not None:
                imgs = imgs[:, :, ::-1] if self.direction == 'horizontal' else imgs[:, ::-1]
                if results.get('modality') == 'Flow':
                    imgs = mirrored_flow(imgs, self.direction)
            flip_keypoints(results, width, self.left_kp, self.right_kp)
            flip_boxes(results, width)
            if self.flip_label_map:
                for key in ('label', 'gt_label'):
                    if key in results:
                        results[key] = self.mapped(results[key])
        results.update(flip=flip, flip_direction=self.direction)
        return results if imgs is None else set_clip(results, imgs, 'Flip')

    def mapped(self, label):
        """``label`` with every class in flip_label_map moved to its mapped class."""
        table = self.flip_label_map
        if isinstance(label, np.ndarray) and label.dtype.kind == 'f':  # multi-hot
            out = np.zeros_like(label)
            out[[table.get(i, i) for i in np.flatnonzero(label)]] = 1
            return out
        if isinstance(label, np.ndarray):  # class indices
            moved = [table.get(int(i), int(i)) for i in label.reshape(-1)]
            return np.array(moved, dtype=label.dtype).reshape(label.shape)
        if isinstance(label, (list, tuple)):
            return type(label)(table.get(int(i), int(i)) for i in label)
        return table.get(int(label), int(label))

    def __repr__(self) -> str:
        return (f'Flip(flip_ratio={self.flip_ratio}, direction={self.direction!r}, '
                f'flip_label_map={self.flip_label_map}, left_kp={self.left_kp}, right_kp={self.right_kp})')


def mirrored_flow(flow: np.ndarray, direction: str) -> np.ndarray:
    """(M, H, W, 2) uint8 flow frames already flipped along ``direction``: the component along it negated."""
    if flow.shape[-1] != 2:
        raise ValueError(f'Flip: flow frames need 2 channels (x, y); got shape {flow.shape}')
    flow = flow.copy()
    axis = 0 if direction == 'horizontal' else 1
    flow[..., axis] = 255 - flow[..., axis]
    return flow


def _is_class(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0
