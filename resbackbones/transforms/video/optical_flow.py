"""Dense optical flow between consecutive frames, stored as mmaction2's flow rawframes expect (denseflow's encoding).

mmaction2's two-stream configs read flow as pairs of grey JPEGs per frame, ``flow_x_00001.jpg`` / ``flow_y_00001.jpg``,
written by denseflow: each component clipped to [-bound, bound] pixels and mapped linearly onto 0..255 (zero motion
-> 128). denseflow is a C++/CUDA build; OpenCV's own estimators (Farneback, DIS) run anywhere OpenCV does and give
the same kind of field (pixels of displacement from one frame to the next, x to the right, y down).
"""
from __future__ import annotations

import cv2
import numpy as np

ALGORITHMS = ('farneback', 'dis')


def flow_estimator(algorithm: str):
    """A function (previous grey frame, next grey frame) -> (H, W, 2) float32 displacement in pixels."""
    if algorithm == 'farneback':
        return lambda prev, nxt: cv2.calcOpticalFlowFarneback(prev, nxt, None, pyr_scale=0.5, levels=3, winsize=15,
                                                               iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
    if algorithm == 'dis':
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda prev, nxt: dis.calc(prev, nxt, None)
    hint = ' (TV-L1 needs opencv-contrib, which is not a dependency)' if algorithm == 'tvl1' else ''
    raise ValueError(f'flow algorithm must be one of {ALGORITHMS}; got {algorithm!r}{hint}')


def encode_flow(flow: np.ndarray, bound: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 2) displacement -> x and y uint8 images: round(255 * (v + bound) / (2 * bound)), clipped (denseflow)."""
    if bound <= 0:
        raise ValueError(f'bound must be > 0 pixels; got {bound!r}')
    # in double, as denseflow's cvRound: float32 put values at a rounding midpoint one level off
    scaled = np.rint(255.0 * (np.clip(flow.astype(np.float64), -bound, bound) + bound) / (2.0 * bound)).astype(np.uint8)
    return scaled[..., 0], scaled[..., 1]


def grey(frame: np.ndarray) -> np.ndarray:
    """An (H, W, 3) RGB frame as the (H, W) uint8 luminance the estimators take."""
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
