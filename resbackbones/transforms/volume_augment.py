"""3D augmentation of (C, D, H, W) volumes with their (D, H, W) labels: flips, in-plane 90-degree rotations, and
random rotation/scaling by one affine resampling (scipy.ndimage: linear for images, nearest for labels)."""
from __future__ import annotations

import numbers
from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np
from scipy import ndimage

from ..registry import TRANSFORMS
from .seeded_rng import SeededRandomState


def _check_sample(results: dict, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    img, labels = results.get('img'), results.get('gt_seg_map')
    if not isinstance(img, np.ndarray) or img.ndim != 4:
        raise ValueError(f"{name} needs results['img'] as a (C, D, H, W) array for {results.get('img_path', 'a sample')}")
    return img, labels


def _check_prob(name: str, prob: float) -> None:
    if not 0 <= prob <= 1:
        raise ValueError(f'{name}: prob must be in [0, 1]; got {prob}')


class _Random(BaseTransform):
    def __init__(self, prob: float, seed: int | None):
        _check_prob(type(self).__name__, prob)
        self.prob = prob
        self.seeded = SeededRandomState(seed)

    @property
    def rng(self) -> np.random.RandomState:
        """This process's generator for ``seed`` (:mod:`.seeded_rng`)."""
        return self.seeded.get()


@TRANSFORMS.register_module()
class RandomFlip3D(_Random):
    """Flip each of ``axes`` (0 = D, 1 = H, 2 = W) independently with probability ``prob``."""

    def __init__(self, prob: float = 0.5, axes: Sequence[int] = (0, 1, 2), seed: int | None = None):
        super().__init__(prob, seed)
        # a repeated axis failed only when both draws flipped it (numpy's 'repeated axis'); an int was a TypeError
        if not isinstance(axes, (tuple, list)) or not axes or len(set(axes)) != len(axes) \
                or any(a not in (0, 1, 2) for a in axes):
            raise ValueError(f'RandomFlip3D: axes must be a non-empty subset of 0 (D), 1 (H), 2 (W), each once; got '
                             f'{axes!r}')
        self.axes = tuple(axes)

    def transform(self, results: dict) -> dict:
        img, labels = _check_sample(results, 'RandomFlip3D')
        flips = tuple(a for a in self.axes if self.rng.random_sample() < self.prob)
        if flips:
            results['img'] = np.flip(img, tuple(a + 1 for a in flips))
            if labels is not None:
                results['gt_seg_map'] = np.flip(labels, flips)
        return results


@TRANSFORMS.register_module()
class RandomRot90In3D(_Random):
    """With probability ``prob``, rotate by k * 90 degrees (k in 1..3) in the plane of ``axes`` (default the
    in-plane H, W); a patch that is not square in that plane changes shape, so use square patches."""

    def __init__(self, prob: float = 0.5, axes: Sequence[int] = (1, 2), seed: int | None = None):
        super().__init__(prob, seed)
        if not isinstance(axes, (list, tuple)) or len(axes) != 2 or len(set(axes)) != 2 or \
                any(a not in (0, 1, 2) for a in axes):
            raise ValueError(f'RandomRot90In3D: axes must be two of 0 (D), 1 (H), 2 (W); got {axes!r}')
        self.axes = tuple(axes)

    def transform(self, results: dict) -> dict:
        img, labels = _check_sample(results, 'RandomRot90In3D')
        if self.rng.random_sample() < self.prob:
            k = self.rng.randint(1, 4)
            results['img'] = np.rot90(img, k, tuple(a + 1 for a in self.axes))
            if labels is not None:
                results['gt_seg_map'] = np.rot90(labels, k, self.axes)
            if k % 2:  # a quarter turn swaps the two axes: their voxel sizes and sizes go with them
                first, second = self.axes
                for key in ('spacing', 'img_shape'):
                    if results.get(key) is not None and len(results[key]) == 3:
                        values = list(results[key])
                        values[first], values[second] = values[second], values[first]
                        results[key] = tuple(values)
        return results


@TRANSFORMS.register_module()
class RandomAffine3D(_Random):
    """With probability ``prob``, rotate about each axis by up to ``rotate`` degrees and scale by a factor in
    ``scale``, about the volume centre, in one resampling (images linear, labels nearest). Voxels that come from
    outside the volume get 0 in the image and ``ignore_index`` in the labels, so they never count in the loss."""

    def __init__(self, prob: float = 0.2, rotate: float = 15.0, scale: Sequence[float] = (0.85, 1.25),
                 seed: int | None = None):
        super().__init__(prob, seed)
        if not (isinstance(rotate, numbers.Real) and rotate >= 0 and isinstance(scale, (list, tuple))
                and len(scale) == 2 and all(isinstance(v, numbers.Real) for v in scale) and 0 < scale[0] <= scale[1]):
            raise ValueError(f'RandomAffine3D: rotate must be one angle >= 0 (degrees, each axis within +-rotate) '
                             f'and scale (low, high) with 0 < low <= high; got {rotate!r}, {scale!r}')
        self.rotate, self.scale = float(rotate), tuple(scale)

    def _matrix(self) -> np.ndarray:
        matrix = np.eye(3) / self.rng.uniform(*self.scale)  # output -> input coordinates: inverse scale
        for axis in range(3):
            angle = np.deg2rad(self.rng.uniform(-self.rotate, self.rotate))
            i, j = [a for a in range(3) if a != axis]
            rot = np.eye(3)
            rot[i, i] = rot[j, j] = np.cos(angle)
            rot[i, j], rot[j, i] = -np.sin(angle), np.sin(angle)
            matrix = rot @ matrix
        return matrix

    def transform(self, results: dict) -> dict:
        img, labels = _check_sample(results, 'RandomAffine3D')
        if self.rng.random_sample() >= self.prob:
            return results
        matrix = self._matrix()
        centre = (np.array(img.shape[1:]) - 1) / 2
        offset = centre - matrix @ centre
        results['img'] = np.stack([ndimage.affine_transform(c, matrix, offset, order=1, cval=0.0) for c in img])
        if labels is not None:
            results['gt_seg_map'] = ndimage.affine_transform(labels, matrix, offset, order=0,
                                                             cval=results.get('ignore_index', 255))
        return results
