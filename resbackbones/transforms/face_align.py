"""Face alignment to insightface's ArcFace template: a similarity transform from five landmarks.

The five points are left eye, right eye, nose tip, left and right mouth corner (a detector's order, e.g. RetinaFace
or SCRFD). The template is insightface's ``arcface_dst`` for 112x112 crops; other sizes scale it as insightface's
``face_align.estimate_norm`` does (a multiple of 112 scales it, otherwise it is laid out for 128 and shifted).
"""
from __future__ import annotations

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ..registry import TRANSFORMS

ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def template_for(size: int) -> np.ndarray:
    """The five template points for a ``size`` x ``size`` crop (insightface's rule)."""
    if size % 112 == 0:
        return ARCFACE_TEMPLATE * (size / 112)
    ratio = size / 128
    return ARCFACE_TEMPLATE * ratio + np.array([8.0 * ratio, 0.0])


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) taking ``src`` closest to ``dst`` in least squares
    (Umeyama, 1991: the estimate skimage's SimilarityTransform makes for insightface)."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / src_c.var(0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def check_landmarks(landmarks, where: str) -> np.ndarray:
    """(5, 2) float64 array; ValueError naming ``where`` otherwise, also for points that all coincide (no
    similarity transform maps them onto the template: the warp would divide by zero and return noise)."""
    expected = f'{where}: landmarks must be 5 (x, y) points (eyes, nose, mouth corners), shape (5, 2), finite'
    try:
        points = np.asarray(landmarks, dtype=np.float64)
    except (TypeError, ValueError) as e:  # ragged lists, strings
        raise ValueError(f'{expected}; got {landmarks!r} ({e})') from None
    if points.shape != (5, 2) or not np.isfinite(points).all():
        raise ValueError(f'{expected}; got shape {points.shape}')
    if np.ptp(points, axis=0).max() < 1e-6:
        raise ValueError(f'{expected}, and not all at one place; got five times {points[0].tolist()}')
    return points


def align_face(img: np.ndarray, landmarks, size: int = 112, where: str = 'align_face') -> np.ndarray:
    """``img`` (HxWxC) warped so its five ``landmarks`` land on the ArcFace template of a ``size`` crop."""
    matrix = similarity_transform(check_landmarks(landmarks, where), template_for(size))
    warped = cv2.warpAffine(img, matrix, (size, size), borderValue=0.0)
    return warped[..., None] if warped.ndim == 2 else warped


@TRANSFORMS.register_module()
class FaceAlign(BaseTransform):
    """Align ``results['img']`` with ``results['landmarks']`` (5x2, pixel x, y) into a ``size`` x ``size`` crop.

    Args:
        size: output side (112 for insightface's models). A sample without landmarks is an error, unless
            ``skip_missing`` (then it must already be ``size`` x ``size``, i.e. aligned).
    """

    def __init__(self, size: int = 112, skip_missing: bool = False):
        if not isinstance(size, int) or size < 16:
            raise ValueError(f'FaceAlign: size must be an int >= 16; got {size!r}')
        self.size, self.skip_missing = size, bool(skip_missing)

    def transform(self, results: dict) -> dict:
        where = f"FaceAlign on {results.get('img_path', results.get('img_source', 'a sample'))}"
        if results.get('landmarks') is None:
            if self.skip_missing and tuple(results['img'].shape[:2]) == (self.size, self.size):
                return results
            raise ValueError(f"{where}: no 'landmarks' in the sample (and it is not a {self.size}x{self.size} "
                             f"aligned crop)")
        results['img'] = align_face(results['img'], results.pop('landmarks'), self.size, where)
        results['img_shape'] = results['img'].shape[:2]  # the landmarks described the image before; now used up
        return results
