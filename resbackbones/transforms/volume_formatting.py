"""Pack a volume sample: the (C, D, H, W) image as the model's ``inputs``, the labels as ``gt_sem_seg`` (D, H, W)."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np
import torch

from ..registry import TRANSFORMS
from .seg_formatting import SEG_META_KEYS, collatable_meta


@TRANSFORMS.register_module()
class PackVolumeInputs(BaseTransform):
    """``dict(inputs=(C, D, H, W) float32 tensor, data_samples=dict(gt_sem_seg=(D, H, W) int64, img_shape=(D, H,
    W), meta ...))``: ``img_shape`` lets the model crop an unlabelled volume's prediction out of a padded batch.

    Always copies (the dataset's cached volumes are shared by every sample).

    Args:
        meta_keys: sample keys copied into ``data_samples`` when present ('spacing' feeds HD95 in mm).
    """

    def __init__(self, meta_keys: Sequence[str] = SEG_META_KEYS):
        if isinstance(meta_keys, str) or not all(isinstance(k, str) for k in meta_keys):
            raise ValueError(f'PackVolumeInputs: meta_keys must be a list of key names; got {meta_keys!r}')
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 4:
            raise ValueError(f"PackVolumeInputs needs results['img'] as a (C, D, H, W) array for "
                             f"{results.get('img_path', 'a sample')}; got {getattr(img, 'shape', type(img))}")
        data_samples = collatable_meta({key: results[key] for key in self.meta_keys if key in results})
        data_samples['img_shape'] = torch.tensor(img.shape[1:])
        labels = results.get('gt_seg_map')
        if labels is not None:
            if labels.shape != img.shape[1:]:
                raise ValueError(f'PackVolumeInputs: labels {labels.shape} and image {img.shape[1:]} of '
                                 f"{results.get('img_path', 'a sample')} differ")
            data_samples['gt_sem_seg'] = torch.from_numpy(np.array(labels, dtype=np.int64))
        return dict(inputs=torch.from_numpy(np.array(img, dtype=np.float32)), data_samples=data_samples)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys!r})'
