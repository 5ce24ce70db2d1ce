"""Random patches of large images with their masks, optionally centred on foreground more often (nnU-Net style)."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS
from .seeded_rng import SeededRandomState


@TRANSFORMS.register_module()
class RandomPatch(BaseTransform):
    """Crop ``img`` and ``gt_seg_map`` to one random ``size`` patch at the same place.

    Images smaller than the patch are padded (image with ``pad_value``, mask with ``ignore_index``, so padding
    never counts in the loss).

    Args:
        size: patch side or (h, w).
        fg_prob: probability that the patch is centred on a random foreground pixel (label not 0 and not ignored),
            which helps with small structures; otherwise the position is uniform.
        pad_value: image value of padding. seed: for a reproducible sequence (default: numpy's global state).
    """

    def __init__(self, size: int | Sequence[int], fg_prob: float = 0.0, pad_value: float = 0.0,
                 seed: int | None = None):
        pair = (size, size) if isinstance(size, int) else tuple(size)
        if len(pair) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair):
            raise ValueError(f'RandomPatch: size must be a positive int or (h, w); got {size!r}')
        if not 0 <= fg_prob <= 1:
            raise ValueError(f'RandomPatch: fg_prob must be in [0, 1]; got {fg_prob}')
        self.size, self.fg_prob, self.pad_value = pair, fg_prob, pad_value
        self.seeded = SeededRandomState(seed)

    @property
    def rng(self) -> np.random.RandomState:
        """This process's generator for ``seed`` (:mod:`.seeded_rng`)."""
        return self.seeded.get()

    def _pad(self, results: dict) -> None:
        img = results['img']
        pad_h, pad_w = max(self.size[0] - img.shape[0], 0), max(self.size[1] - img.shape[1], 0)
        if pad_h or pad_w:
            results['img'] = np.pad(img, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=self.pad_value)
            if 'gt_seg_map' in results:
                results['gt_seg_map'] = np.pad(results['gt_seg_map'], ((0, pad_h), (0, pad_w)),
                                               constant_values=results.get('ignore_index', 255))

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(f"RandomPatch needs results['img'] as an HxWxC array for "
                             f"{results.get('img_path', 'a sample')}")
        self._pad(results)
        height, width = results['img'].shape[:2]
        ph, pw = self.size
        mask = results.get('gt_seg_map')
        top, left = self.rng.randint(0, height - ph + 1), self.rng.randint(0, width - pw + 1)
        if mask is not None and self.fg_prob > 0 and self.rng.random_sample() < self.fg_prob:
            ys, xs = np.nonzero((mask != 0) & (mask != results.get('ignore_index', 255)))
            if ys.size:
                k = self.rng.randint(0, ys.size)
                top = int(np.clip(ys[k] - ph // 2, 0, height - ph))
                left = int(np.clip(xs[k] - pw // 2, 0, width - pw))
        results['img'] = results['img'][top:top + ph, left:left + pw]
        if mask is not None:
            results['gt_seg_map'] = results['gt_seg_map'][top:top + ph, left:left + pw]
        results['img_shape'] = (ph, pw)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size}, fg_prob={self.fg_prob})'
