"""Skeleton loading for PoseC3D (mmaction2's ``PoseDecode`` and ``DecompressPose``; keypoints.py says what a pose
sample holds). ``PoseDecode`` picks the sampled frames; ``DecompressPose`` unpacks Kinetics-skeleton's per-box
storage."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .keypoints import keypoints_of, sample_name


def keep_keypoint_frames(results: dict, inds: np.ndarray, owner: str) -> None:
    """Keep the frames ``inds`` of ``keypoint`` and ``keypoint_score`` (if present) as float32; ValueError names the
    sample when an index is outside the keypoints or the scores do not match them."""
    kp = keypoints_of(results, owner)
    outside = inds[(inds < 0) | (inds >= kp.shape[1])]
    if outside.size:
        raise ValueError(f'{owner}: frame index {int(outside[0])} is outside the {kp.shape[1]} frames of '
                         f"{sample_name(results)}'s keypoints (total_frames={results.get('total_frames')}, "
                         f"start_index={results.get('start_index', 0)}); "
                         + ('keypoint frames count from 0: leave the dataset\'s start_index at 0'
                            if results.get('start_index', 0) else 'total_frames must count the keypoint frames'))
    score = results.get('keypoint_score')
    if score is not None:
        if not isinstance(score, np.ndarray) or score.shape != kp.shape[:3]:
            raise ValueError(f"{owner}: keypoint_score of {sample_name(results)} must be (persons, frames, "
                             f"joints) = {kp.shape[:3]}; got {getattr(score, 'shape', type(score).__name__)}")
        results['keypoint_score'] = score[:, inds].astype(np.float32)
    results['keypoint'] = kp[:, inds].astype(np.float32)


@TRANSFORMS.register_module()
class PoseDecode(BaseTransform):
    """Keep the frames ``frame_inds`` (+ ``offset``) of ``keypoint`` and ``keypoint_score`` as float32; without a
    sampler, every frame."""

    def transform(self, results: dict) -> dict:
        kp = keypoints_of(results, 'PoseDecode')
        results.setdefault('total_frames', kp.shape[1])
        results['frame_inds'] = np.asarray(results.get('frame_inds', np.arange(results['total_frames']))).reshape(-1)
        keep_keypoint_frames(results, results['frame_inds'] + results.get('offset', 0), 'PoseDecode')
        return results

    def __repr__(self) -> str:
        return 'PoseDecode()'


@TRANSFORMS.register_module()
class DecompressPose(BaseTransform):
    """Kinetics-skeleton's compressed form -> (M, T, V, 2) keypoints and (M, T, V) scores.

    The compressed ``keypoint`` is (boxes, V, 3): (x, y, score) per joint of every detected person box, and
    ``frame_inds`` the frame of each box (non-decreasing); ``anno_inds`` (set by ``PoseDataset`` from ``box_thr``)
    keeps the confident boxes. Boxes of a frame become persons 0, 1, ... of it.

    Args:
        squeeze: drop frames without a box (frames renumbered 0..), as mmaction2's Kinetics configs.
        max_person: keep the ``max_person`` boxes with the highest summed joint scores per frame.
    """

    def __init__(self, squeeze: bool = True, max_person: int = 10):
        if isinstance(max_person, bool) or not isinstance(max_person, int) or max_person < 1:
            raise ValueError(f'DecompressPose: max_person must be an integer >= 1; got {max_person!r}')
        self.squeeze, self.max_person = bool(squeeze), max_person

    def transform(self, results: dict) -> dict:
        missing = [k for k in ('total_frames', 'frame_inds', 'keypoint') if k not in results]
        if missing:
            raise ValueError(f'DecompressPose: {sample_name(results)} lacks {missing} (a Kinetics-skeleton file holds '
                             f'total_frames, frame_inds and keypoint)')
        frame_inds, keypoint = np.asarray(results.pop('frame_inds')), np.asarray(results['keypoint'])
        if 'anno_inds' in results:
            frame_inds, keypoint = frame_inds[results['anno_inds']], keypoint[results['anno_inds']]
        if keypoint.ndim != 3 or keypoint.shape[-1] != 3 or len(frame_inds) != len(keypoint):
            raise ValueError(f'DecompressPose: {sample_name(results)} needs keypoint (boxes, joints, 3) with one '
                             f'frame index per box; got keypoint {keypoint.shape} and {len(frame_inds)} frame indices')
        if np.any(np.diff(frame_inds) < 0):
            raise ValueError(f'DecompressPose: frame_inds of {sample_name(results)} must be non-decreasing')
        total = int(results['total_frames'])
        if not self.squeeze and len(frame_inds) and (frame_inds.min() < 0 or frame_inds.max() >= total):
            raise ValueError(f'DecompressPose: {sample_name(results)} has a box at frame {int(frame_inds.max())} '
                             f'(or below 0) but total_frames={total}; with squeeze=False every frame_inds entry '
                             'must be a frame of the video')
        if self.squeeze:
            frame_inds = np.unique(frame_inds, return_inverse=True)[1].reshape(-1)
            total = int(frame_inds.max()) + 1 if len(frame_inds) else 0
        results['total_frames'] = total
        # persons per frame: the most boxes any frame has (mmaction2: the count of the most frequent frame index)
        counts = np.bincount(frame_inds, minlength=total) if len(frame_inds) else np.zeros(total, np.int64)
        num_person = int(counts.max(initial=0))
        kp = np.zeros((num_person, total, keypoint.shape[1], 2), np.float16)
        score = np.zeros((num_person, total, keypoint.shape[1]), np.float16)
        slot = np.zeros(total, np.int64)
        for frame, joints in zip(frame_inds, keypoint):
            kp[slot[frame], frame], score[slot[frame], frame] = joints[:, :2], joints[:, 2]
            slot[frame] += 1
        if num_person > self.max_person:
            for t in np.flatnonzero(counts):
                n = counts[t]
                order = np.argsort(-score[:n, t].sum(-1), kind='stable')
                kp[:n, t], score[:n, t] = kp[order, t], score[order, t]
            num_person = results['num_person'] = self.max_person
        results['keypoint'], results['keypoint_score'] = kp[:num_person], score[:num_person]
        return results

    def __repr__(self) -> str:
        return f'DecompressPose(squeeze={self.squeeze}, max_person={self.max_person})'
