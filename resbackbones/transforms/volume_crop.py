"""Random 3D patches of a volume and its labels, a fraction centred on foreground (nnU-Net's oversampling)."""
from __future__ import annotations

import weakref
from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .seeded_rng import SeededRandomState


def _triple(value: int | Sequence[int], name: str) -> tuple[int, int, int]:
    sizes = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(sizes) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f'{name} must be a positive int or (d, h, w); got {value!r}')
    return sizes


@TRANSFORMS.register_module()
class RandomPatch3D(BaseTransform):
    """Crop ``img`` (C, D, H, W) and ``gt_seg_map`` (D, H, W) to one random ``size`` patch at the same place.

    nnU-Net's rule: with probability ``fg_prob`` (its 0.33) the patch is centred on a voxel drawn uniformly from
    the foreground (label not 0 and not ignored), else placed uniformly. Volumes smaller than the patch along an
    axis are padded (image with ``pad_value``, labels with ``ignore_index``, so padding never counts in the loss).
    The patch is a copy: the dataset's cached volume is never written.

    Args:
        size: patch side or (d, h, w). fg_prob: probability of a foreground-centred patch. pad_value: image
            padding. seed: for a reproducible sequence (default numpy's global state).
    """

    def __init__(self, size: int | Sequence[int], fg_prob: float = 0.33, pad_value: float = 0.0,
                 seed: int | None = None):
        self.size = _triple(size, 'RandomPatch3D: size')
        if not 0 <= fg_prob <= 1:
            raise ValueError(f'RandomPatch3D: fg_prob must be in [0, 1]; got {fg_prob}')
        self.fg_prob, self.pad_value = fg_prob, pad_value
        self.seeded = SeededRandomState(seed)
        # foreground voxel indices of the dataset's cached (read-only) label volumes, found once per volume
        self._foreground: dict[int, tuple[weakref.ref, np.ndarray]] = {}

    @property
    def rng(self) -> np.random.RandomState:
        """This process's generator for ``seed`` (:mod:`.seeded_rng`)."""
        return self.seeded.get()

    def _foreground_voxels(self, labels: np.ndarray, ignore_index: int) -> np.ndarray:
        cached = self._foreground.get(id(labels))
        if cached is not None and cached[0]() is labels:
            return cached[1]
        voxels = np.argwhere((labels != 0) & (labels != ignore_index))
        if not labels.flags.writeable:
            # the entry goes with the array: a flip or rot90 before the crop makes a new read-only view per sample,
            # and their dead entries (tens of MB each) piled up
            key = id(labels)
            self._foreground[key] = (weakref.ref(labels, lambda _: self._foreground.pop(key, None)), voxels)
        return voxels

    def transform(self, results: dict) -> dict:
        img, labels = results.get('img'), results.get('gt_seg_map')
        if not isinstance(img, np.ndarray) or img.ndim != 4:
            raise ValueError(f"RandomPatch3D needs results['img'] as a (C, D, H, W) array for "
                             f"{results.get('img_path', 'a sample')}")
        ignore = results.get('ignore_index', 255)
        shape = img.shape[1:]
        starts = [self.rng.randint(0, max(n - p, 0) + 1) for n, p in zip(shape, self.size)]
        if labels is not None and self.fg_prob > 0 and self.rng.random_sample() < self.fg_prob:
            voxels = self._foreground_voxels(labels, ignore)
            if len(voxels):
                centre = voxels[self.rng.randint(0, len(voxels))]
                starts = [int(np.clip(c - p // 2, 0, max(n - p, 0))) for c, p, n in zip(centre, self.size, shape)]
        region = tuple(slice(s, s + p) for s, p in zip(starts, self.size))
        pads = [(0, max(p - n, 0)) for n, p in zip(shape, self.size)]
        results['img'] = np.pad(img[(slice(None), *region)], [(0, 0)] + pads, constant_values=self.pad_value)
        if labels is not None:
            results['gt_seg_map'] = np.pad(labels[region], pads, constant_values=ignore)
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size}, fg_prob={self.fg_prob})'
