"""Pack a segmentation sample: the image as the model's CxHxW ``inputs``, the mask as ``gt_sem_seg``."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..registry import TRANSFORMS
from .formatting import PackInputs

SEG_META_KEYS = ('img_path', 'seg_map_path', 'slice_idx', 'case_idx', 'spacing')


def collatable_meta(data_samples: dict) -> dict:
    """``data_samples`` with tuple and list values as arrays: mmengine's pseudo_collate transposes sequences across
    the batch, so a (0.5, 0.7) spacing or an ori_shape went to the wrong samples (batch of 2) or was dropped (any
    other size: HD95 then in pixels)."""
    return {key: np.asarray(value) if isinstance(value, (tuple, list)) else value
            for key, value in data_samples.items()}


@TRANSFORMS.register_module()
class PackSegInputs(PackInputs):
    """``PackInputs`` plus ``data_samples['gt_sem_seg']``, the label map as an (H, W) int64 tensor (if loaded), and
    ``data_samples['img_shape']``, the packed image's (H, W).

    Args:
        meta_keys: sample keys copied into ``data_samples`` when present (paths, slice index, pixel spacing).
    """

    def __init__(self, meta_keys: Sequence[str] = SEG_META_KEYS):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        packed['data_samples'] = collatable_meta(packed['data_samples'])
        if packed['inputs'].dtype == torch.float64:
            packed['inputs'] = packed['inputs'].float()
        # the image's own size, which a batch of larger images pads: predictions without masks are cropped to it
        # (a tensor: mmengine's pseudo_collate transposes tuples across the batch)
        packed['data_samples']['img_shape'] = torch.tensor(packed['inputs'].shape[-2:])
        mask = results.get('gt_seg_map')
        if mask is not None:
            packed['data_samples']['gt_sem_seg'] = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.int64))
        return packed
