"""Keypoints in a pose sample: reading them, and moving them with the clip transforms' geometry.

A pose sample carries ``keypoint`` (M persons, T frames, V joints, 2) in pixels of ``img_shape`` (h, w) and
optionally ``keypoint_score`` (M, T, V). A joint at x = 0 is missing (mmaction2's convention): a flip leaves it at 0.
Crops and resizes move every coordinate as mmaction2 does (a missing joint then lies outside the frame, and its
score of 0 keeps it out of the heatmaps).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def sample_name(results: dict) -> str:
    return results.get('frame_dir') or results.get('filename') or 'the sample'


THREE_D_HINT = ' (x, y, z skeletons such as NTU 3D are for GCN models, which this project does not provide)'


def shape_hint(kp) -> str:
    """Why keypoints of a wrong shape may be so: NTU's (x, y, z), or Kinetics-skeleton's compressed (boxes, joints,
    3) rows before DecompressPose (the 3D hint misled there)."""
    if not isinstance(kp, np.ndarray) or kp.shape[-1:] != (3,):
        return ''
    if kp.ndim == 3:
        return (' (compressed (boxes, joints, x y score) rows, as Kinetics-skeleton stores them: put DecompressPose '
                'first)')
    return THREE_D_HINT if kp.ndim == 4 else ''


def keypoints_of(results: dict, owner: str) -> np.ndarray:
    """``results['keypoint']`` as an (M, T, V, 2) array of image (x, y); ValueError names the sample."""
    kp = results.get('keypoint')
    if not isinstance(kp, np.ndarray) or kp.ndim != 4 or kp.shape[-1] != 2:
        got = f'shape {kp.shape}' if isinstance(kp, np.ndarray) else type(kp).__name__
        raise ValueError(f"{owner} needs results['keypoint'] as (persons, frames, joints, 2) image x, y; got {got} "
                         f'for {sample_name(results)}{shape_hint(kp)}')
    return kp


def image_shape(results: dict, owner: str) -> tuple[int, int]:
    """``results['img_shape']`` (h, w) the keypoints are in; ValueError names the sample."""
    shape = results.get('img_shape')
    if not (isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2 and all(int(s) > 0 for s in shape)):
        raise ValueError(f"{owner} needs results['img_shape'] = (height, width) of the frame the keypoints are in; "
                         f'got {shape!r} for {sample_name(results)} (PoseDataset annotations carry it)')
    return int(shape[0]), int(shape[1])


def resize_keypoints(results: dict, factor: np.ndarray) -> None:
    """Scale ``keypoint`` by the (w, h) ``factor`` of a resize, if the sample has keypoints."""
    if 'keypoint' in results:
        results['keypoint'] = keypoints_of(results, 'Resize') * factor


def crop_keypoints(results: dict, x: int, y: int) -> None:
    """Shift ``keypoint`` into a crop whose top-left corner is (x, y), if the sample has keypoints."""
    if 'keypoint' in results:
        results['keypoint'] = keypoints_of(results, 'crop') - np.array([x, y])


def flip_keypoints(results: dict, width: int, left: Sequence[int] | None, right: Sequence[int] | None) -> None:
    """Mirror ``keypoint`` x about a frame ``width`` wide (missing joints stay at 0) and swap the ``left`` and
    ``right`` joints of it and of ``keypoint_score``, if the sample has keypoints."""
    if 'keypoint' not in results:
        return
    kp = keypoints_of(results, 'Flip').copy()
    x = kp[..., 0]
    x[x != 0] = width - x[x != 0]
    order = np.arange(kp.shape[2])
    if left is not None and right is not None:
        if max(list(left) + list(right), default=-1) >= len(order):  # else an IndexError, on flipped samples only
            raise ValueError(f'Flip: left_kp / right_kp name joint {max(list(left) + list(right))} but the keypoints '
                             f'of {results.get("frame_dir", "the sample")} have {len(order)} joints (shape '
                             f'{kp.shape}); give the pairs of this skeleton')
        order[list(left)], order[list(right)] = list(right), list(left)
    results['keypoint'] = kp[:, :, order]
    if results.get('keypoint_score') is not None:
        results['keypoint_score'] = results['keypoint_score'][:, :, order]
