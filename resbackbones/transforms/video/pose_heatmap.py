"""PoseC3D's input: mmaction2's ``GeneratePoseTarget``, a Gaussian heatmap per joint (or per limb) per frame.

The heatmap volume (T, channels, H, W) is what the 3D CNN sees instead of pixels. Values equal mmaction2's
per-joint loops (tests/transforms/video/mmaction2_pose.py writes them out) exactly for joints and within 3e-6 for
limbs (a limb's squared length is a numpy float32 scalar there, whose ``**2`` rounds differently from an array's in
about 1 of 1,000 cases); here every joint and person of a frame is drawn at once, each Gaussian confined to
mmaction2's +-3 sigma window. One difference: with both ``with_kp`` and
``with_limb`` mmaction2 allocates joint + limb channels but draws the limbs over the joint channels (its limb loop
restarts at channel 0), leaving the limb channels empty; here limbs take the channels after the joints. No mmaction2
config sets both.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .keypoints import image_shape, keypoints_of

EPS = 1e-4  # mmaction2's: a joint scored below it is not drawn
COCO_SKELETON = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10), (5, 11), (11, 13),
                 (13, 15), (6, 12), (12, 14), (14, 16), (11, 12))


def _window(low: np.ndarray, high: np.ndarray, sigma: float, size: int, grid: np.ndarray) -> np.ndarray:
    """(..., size) mask of grid cells in mmaction2's window [max(int(low - 3s), 0), min(int(high + 3s) + 1, size))."""
    start = np.maximum(np.trunc(low - 3 * sigma), 0)
    end = np.minimum(np.trunc(high + 3 * sigma) + 1, size)
    return (grid >= start[..., None]) & (grid < end[..., None])


def joint_maps(points: np.ndarray, values: np.ndarray, sigma: float, height: int, width: int) -> np.ndarray:
    """(..., H, W) float32 Gaussians of peak ``values`` (...) at ``points`` (..., 2), zero outside their windows and
    for values under EPS."""
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    mu_x, mu_y = points[..., 0:1], points[..., 1:2]
    d2 = ((xs - mu_x) ** 2)[..., None, :] + ((ys - mu_y) ** 2)[..., :, None]
    maps = np.exp(-d2 / 2 / sigma ** 2) * values[..., None, None]
    inside = (_window(points[..., 0], points[..., 0], sigma, width, xs)[..., None, :]
              & _window(points[..., 1], points[..., 1], sigma, height, ys)[..., :, None])
    return np.where(inside & (values >= EPS)[..., None, None], maps, 0).astype(np.float32)


def limb_maps(starts: np.ndarray, ends: np.ndarray, start_values: np.ndarray, end_values: np.ndarray, sigma: float,
              height: int, width: int) -> np.ndarray:
    """(..., H, W) float32 maps of the distance to each segment start-end, peak min(start, end value); a segment
    shorter than one pixel is drawn as its start joint (mmaction2's rule, float64 distances as it computes them)."""
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    x, y = xs[None, :], ys[:, None]

    def sq_dist(p):  # (..., H, W) squared distance of every cell to points p (..., 2), float32
        return (x - p[..., 0, None, None]) ** 2 + (y - p[..., 1, None, None]) ** 2

    d2_start, d2_end = sq_dist(starts), sq_dist(ends)
    d2_ab = ((starts[..., 0] - ends[..., 0]) ** 2 + (starts[..., 1] - ends[..., 1]) ** 2)[..., None, None]
    with np.errstate(divide='ignore', invalid='ignore'):
        coeff = (d2_start - d2_end + d2_ab) / 2. / d2_ab
    proj_x = starts[..., 0, None, None] + coeff * (ends[..., 0] - starts[..., 0])[..., None, None]
    proj_y = starts[..., 1, None, None] + coeff * (ends[..., 1] - starts[..., 1])[..., None, None]
    d2_line = (x - proj_x) ** 2 + (y - proj_y) ** 2
    d2 = np.where(coeff <= 0, d2_start, np.where(coeff >= 1, d2_end, d2_line)).astype(np.float64)
    value = np.minimum(start_values, end_values)
    maps = np.exp(-d2 / 2. / sigma ** 2) * value[..., None, None].astype(np.float64)
    inside = (_window(np.minimum(starts[..., 0], ends[..., 0]), np.maximum(starts[..., 0], ends[..., 0]), sigma,
                      width, xs)[..., None, :]
              & _window(np.minimum(starts[..., 1], ends[..., 1]), np.maximum(starts[..., 1], ends[..., 1]), sigma,
                        height, ys)[..., :, None])
    maps = np.where(inside & (value >= EPS)[..., None, None], maps, 0).astype(np.float32)
    too_short = d2_ab[..., 0, 0] < 1
    maps[too_short] = 0
    drawn = too_short & (value >= EPS) & inside.any((-2, -1))  # mmaction2 skips empty windows before this rule
    if drawn.any():
        maps[drawn] = joint_maps(starts[drawn], start_values[drawn], sigma, height, width)
    return maps


@TRANSFORMS.register_module()
class GeneratePoseTarget(BaseTransform):
    """``keypoint`` (M, T, V, 2) in pixels of ``img_shape`` -> ``imgs`` (T, channels, H, W) float32 heatmaps; the
    persons of a frame share its maps (pixel-wise max). With ``imgs`` already present (RGB + pose), the maps go to
    ``heatmap_imgs``.

    Args:
        sigma: Gaussian width in pixels. use_score: peak = the joint's ``keypoint_score`` (else 1).
        with_kp: a channel per joint. with_limb: a channel per ``skeletons`` pair (limbs after joints).
        double: also the mirrored maps (width flipped, left/right channels swapped) as a second view, appended
            along T, for test-time flip averaging; ``left_kp``/``right_kp`` (joints) or ``left_limb``/
            ``right_limb`` (limbs, when not with_kp) say which channels swap.
        scaling: maps drawn at ``scaling`` x the frame size.
    """

    def __init__(self, sigma: float = 0.6, use_score: bool = True, with_kp: bool = True, with_limb: bool = False,
                 skeletons: Sequence[Sequence[int]] = COCO_SKELETON, double: bool = False,
                 left_kp: Sequence[int] = (1, 3, 5, 7, 9, 11, 13, 15),
                 right_kp: Sequence[int] = (2, 4, 6, 8, 10, 12, 14, 16),
                 left_limb: Sequence[int] = (0, 2, 4, 5, 6, 10, 11, 12),
                 right_limb: Sequence[int] = (1, 3, 7, 8, 9, 13, 14, 15), scaling: float = 1.):
        if not (with_kp or with_limb):
            raise ValueError('GeneratePoseTarget: set with_kp, with_limb or both (nothing to draw otherwise)')
        if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or sigma <= 0:
            raise ValueError(f'GeneratePoseTarget: sigma must be a number > 0; got {sigma!r}')
        if not isinstance(scaling, (int, float)) or isinstance(scaling, bool) or scaling <= 0:
            raise ValueError(f'GeneratePoseTarget: scaling must be a number > 0; got {scaling!r}')
        if not all(len(pair) == 2 for pair in skeletons):
            raise ValueError(f'GeneratePoseTarget: skeletons must be (joint, joint) pairs; got {skeletons!r}')
        for left, right, what in ((left_kp, right_kp, 'kp'), (left_limb, right_limb, 'limb')):
            if len(left) != len(right):
                raise ValueError(f'GeneratePoseTarget: left_{what} and right_{what} must pair up; got {len(left)} '
                                 f'and {len(right)} indices')
        self.sigma, self.use_score, self.with_kp, self.with_limb = float(sigma), bool(use_score), with_kp, with_limb
        self.skeletons = tuple(tuple(int(j) for j in pair) for pair in skeletons)
        self.double, self.scaling = bool(double), float(scaling)
        self.left_kp, self.right_kp = tuple(left_kp), tuple(right_kp)
        self.left_limb, self.right_limb = tuple(left_limb), tuple(right_limb)

    def heatmaps(self, results: dict) -> np.ndarray:
        """(T, channels, H, W) float32 maps of the sample's keypoints."""
        kps = keypoints_of(results, 'GeneratePoseTarget')[..., :2].astype(np.float32)
        num_joints = kps.shape[2]
        if self.with_limb and max(max(pair) for pair in self.skeletons) >= num_joints:
            raise ValueError(f'GeneratePoseTarget: skeletons name joint {max(max(p) for p in self.skeletons)} but '
                             f'the keypoints of {results.get("frame_dir", "the sample")} have {num_joints} joints')
        scores = results.get('keypoint_score')
        scores = np.ones(kps.shape[:3], np.float32) if scores is None or not self.use_score else scores
        height, width = image_shape(results, 'GeneratePoseTarget')
        height, width = int(height * self.scaling + 0.5), int(width * self.scaling + 0.5)
        kps = kps * np.float32(self.scaling)
        frames = []
        for t in range(kps.shape[1]):
            maps = []
            if self.with_kp:  # (M, V, H, W) -> (V, H, W)
                maps.append(joint_maps(kps[:, t], scores[:, t].astype(np.float32), self.sigma, height,
                                       width).max(0, initial=0))  # initial: a sample of no persons is all zeros
            if self.with_limb:
                a, b = (np.array([pair[k] for pair in self.skeletons]) for k in (0, 1))
                maps.append(limb_maps(kps[:, t, a], kps[:, t, b], scores[:, t, a].astype(np.float32),
                                      scores[:, t, b].astype(np.float32), self.sigma, height, width).max(0, initial=0))
            frames.append(np.concatenate(maps))
        if not frames:  # a sequence of no frames: (0, C, H, W), as mmaction2 (stacking nothing raised, unnamed)
            channels = kps.shape[2] * self.with_kp + len(self.skeletons) * self.with_limb
            return np.zeros((0, channels, height, width), np.float32)
        return np.stack(frames)

    def transform(self, results: dict) -> dict:
        heatmap = self.heatmaps(results)
        if self.double:
            order = np.arange(heatmap.shape[1])
            left, right = (self.left_kp, self.right_kp) if self.with_kp else (self.left_limb, self.right_limb)
            if self.with_kp and self.with_limb:  # the limb channels follow the joints': swap them too (mmaction2
                joints = keypoints_of(results, 'GeneratePoseTarget').shape[2]  # mirrors them in place only)
                left = left + tuple(joints + i for i in self.left_limb)
                right = right + tuple(joints + i for i in self.right_limb)
            if max(left + right, default=-1) >= len(order):
                raise ValueError(f'GeneratePoseTarget(double=True): left/right indices reach {max(left + right)} '
                                 f'but there are {len(order)} heatmap channels')
            order[list(left)], order[list(right)] = right, left
            heatmap = np.concatenate([heatmap, heatmap[..., ::-1][:, order]])
        results['heatmap_imgs' if 'imgs' in results else 'imgs'] = np.ascontiguousarray(heatmap)
        return results

    def __repr__(self) -> str:
        return (f'GeneratePoseTarget(sigma={self.sigma}, use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, double={self.double}, scaling={self.scaling})')
