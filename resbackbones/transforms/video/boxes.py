"""Person boxes in an AVA sample, moved with the clip transforms' geometry (mmaction2's arithmetic).

An AVA sample carries ``gt_bboxes`` (K, 4) and optionally ``proposals`` (P, 4) as x1, y1, x2, y2: relative to the
frame (0..1) from the dataset, in pixels of ``img_shape`` once the frames are read. Resizes scale them, crops shift
them into the crop and clip them to [0, crop size - 1], horizontal flips mirror them about the frame width
(x -> width - x, without mmaction2's images' -1). ``crop_quadruple`` (x, y, w, h relative to the decoded frame)
records which part of the frame the clip still shows, for models that read features of the uncropped frame.
"""
from __future__ import annotations

import numpy as np

BOX_KEYS = ('gt_bboxes', 'proposals')


def _boxes(results: dict):
    """(key, (n, 4) array) of each box set in the sample; ValueError names a set of another shape."""
    for key in BOX_KEYS:
        boxes = results.get(key)
        if boxes is None:
            continue
        if not isinstance(boxes, np.ndarray) or boxes.ndim != 2 or boxes.shape[1] != 4:
            got = getattr(boxes, 'shape', type(boxes).__name__)
            raise ValueError(f"{key} of {results.get('img_key', 'the sample')} must be an (n, 4) array of x1, y1, "
                             f'x2, y2; got {got}')
        yield key, boxes


def boxes_to_pixels(results: dict, height: int, width: int) -> None:
    """Relative boxes -> float32 pixels of an ``height`` x ``width`` frame (done once, when frames are read)."""
    if 'gt_bboxes' not in results:  # mmaction2 scales proposals only alongside ground truth
        return
    for key, boxes in _boxes(results):
        results[key] = (boxes * np.array([width, height, width, height])).astype(np.float32)


def resize_boxes(results: dict, factor: np.ndarray) -> None:
    """Scale the boxes by a resize's (w, h) ``factor``."""
    if 'gt_bboxes' in results:
        for key, boxes in _boxes(results):
            results[key] = boxes * np.concatenate([factor, factor])


def crop_boxes(results: dict, x1: int, y1: int, x2: int, y2: int) -> None:
    """Shift the boxes into the crop (x1, y1, x2, y2) and clip them to its pixels [0, size - 1]."""
    if 'gt_bboxes' not in results:
        return
    for key, boxes in _boxes(results):
        out = boxes.copy()
        out[:, 0::2] = np.clip(boxes[:, 0::2] - x1, 0, x2 - x1 - 1)
        out[:, 1::2] = np.clip(boxes[:, 1::2] - y1, 0, y2 - y1 - 1)
        results[key] = out


def flip_boxes(results: dict, width: int) -> None:
    """Mirror the boxes horizontally about a frame ``width`` wide (x1' = width - x2, x2' = width - x1)."""
    if 'gt_bboxes' not in results:
        return
    for key, boxes in _boxes(results):
        out = boxes.copy()
        out[:, 0], out[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
        results[key] = out


def crop_quadruple(results: dict, x: int, y: int, w: int, h: int, height: int, width: int) -> None:
    """Compose ``crop_quadruple`` with a crop (x, y, w, h) of a ``height`` x ``width`` frame (starting from the
    whole frame [0, 0, 1, 1]); float32 as mmaction2."""
    old = results.get('crop_quadruple', np.array([0, 0, 1, 1], np.float32))
    results['crop_quadruple'] = np.array([old[0] + x / width * old[2], old[1] + y / height * old[3],
                                          w / width * old[2], h / height * old[3]], np.float32)
