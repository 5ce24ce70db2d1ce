"""Load each sample once, augment it afresh every time: a dataset wrapper for small training sets.

The nuclei demos train on one 512x384 image: every sample re-read the TIFF and re-normalised it (U-Net), or
re-decoded its 102 instance masks (Mask R-CNN), to crop a patch out of the same result: 3.4 and 21.5 ms per sample,
against 0.32 and 6.5 ms cached (1.8 ms with the masks kept as one ``InstanceMap``;
``python tools/benchmark_data.py --cached CONFIG``).
On two cores that work competes with the training step. ``CachedDataset`` splits the pipeline: the wrapped
dataset's own pipeline (loading, fixed normalisation) runs once per sample and its result is kept; ``pipeline``
(random crops, flips, packing) runs at every access on a copy of it, so a transform that writes in place cannot
change the cache.
"""
from __future__ import annotations

import copy
import math
import sys
from typing import Any, Callable, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from ..registry import DATASETS, TRANSFORMS

NAME = 'CachedDataset'


def nbytes(value: Any) -> int:
    """Approximate memory held by a sample: its arrays and tensors, plus a small size for everything else."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(nbytes(k) + nbytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    return sys.getsizeof(value)


def first_difference(a: Any, b: Any, where: str = '') -> str | None:
    """The key path at which two loads of one sample differ, or None when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f'{where}[{key!r}] (present in one load only)'
            found = first_difference(a[key], b[key], f'{where}[{key!r}]')
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f'{where} (lengths {len(a)} and {len(b)})'
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := first_difference(x, y, f'{where}[{i}]'))), None)
    if isinstance(a, BaseDataElement) and isinstance(b, BaseDataElement) and type(a) is type(b):
        # packed samples (PackDetInputs ...) have no __eq__: identical loads compared as different objects
        return first_difference(a.to_dict(), b.to_dict(), where)
    if isinstance(a, (np.ndarray, torch.Tensor)) or isinstance(b, (np.ndarray, torch.Tensor)):
        same = type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype and (
            torch.equal(a, b) or (a.is_floating_point() and bool(torch.isclose(a, b, 0, 0, equal_nan=True).all()))
            if isinstance(a, torch.Tensor) else np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'))
        return None if same else where or '(the sample)'
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else where or '(the sample)'


@DATASETS.register_module()
class CachedDataset(torch.utils.data.Dataset):
    """The wrapped dataset's samples, loaded once and kept in memory; ``pipeline`` runs on a copy at each access.

    Args:
        dataset: the dataset (config or built) whose own pipeline does only what gives the same result every time:
            loading, decoding, fixed normalisation (e.g. ``[LoadImageAndMask, NormalizeIntensity]``). The first
            sample is loaded twice and compared; a difference (a random transform in that pipeline) is an error
            naming the key.
        pipeline: the transforms to run afresh at every access (random crops, flips, packing).
        max_bytes: memory budget of the cache (default 4 GiB). Samples loaded once the budget is spent are not kept
            (they load at every access), and that is logged once.

    Each data loader worker keeps its own cache (``persistent_workers=True`` keeps it across epochs). ``metainfo``,
    ``get_data_info`` and ``len`` are the wrapped dataset's.
    """

    def __init__(self, dataset: dict | torch.utils.data.Dataset, pipeline: Sequence[dict | Callable] = (),
                 max_bytes: int = 4 << 30):
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f'{NAME}: max_bytes must be an integer >= 0; got {max_bytes!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline])
        self.max_bytes = max_bytes
        self.cache: dict[int, Any] = {}
        self.cached_bytes = 0
        self.checked = False
        self.full = False

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo (a copy)."""
        return copy.deepcopy(getattr(self.dataset, 'metainfo', {}))

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's annotation of sample ``idx`` (before any pipeline)."""
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> Any:
        if not -len(self) <= idx < len(self):
            raise IndexError(f'{NAME}: index {idx} is out of range for {len(self)} samples')
        idx %= len(self)
        sample = self.cache.get(idx)
        if sample is None:
            sample = self._load(idx)
        return self.pipeline(copy.deepcopy(sample))

    def _load(self, idx: int) -> Any:
        sample = self.dataset[idx]
        if not self.checked:
            again = self.dataset[idx]
            differs = first_difference(sample, again)
            if differs:
                raise ValueError(
                    f"{NAME}: two loads of sample {idx} differ at {differs}: the wrapped dataset's pipeline must give "
                    'the same result every time (loading, fixed normalisation); move random transforms to '
                    f"{NAME}'s own pipeline")
            self.checked = True
        size = nbytes(sample)
        if self.cached_bytes + size <= self.max_bytes:
            self.cache[idx] = sample
            self.cached_bytes += size
        elif not self.full:
            self.full = True
            print_log(f'{NAME}: cache full at {len(self.cache)} samples ({self.cached_bytes / 2**20:.1f} MiB of '
                      f'max_bytes={self.max_bytes}); samples not cached load at every access', logger='current')
        return sample
