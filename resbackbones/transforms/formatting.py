"""The last step of a pipeline: an HxWxC array becomes the model's CxHxW ``inputs`` plus ``data_samples``."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
import numpy as np
import torch

from ..registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackInputs(BaseTransform):
    """Pack ``results`` into ``dict(inputs=CxHxW tensor, data_samples=dict(gt_label=int, img_path=str, ...))``.

    The tensor keeps the image dtype (uint8 stays uint8: the model's data_preprocessor normalises on the device,
    which is cheaper than float tensors through the data loader). ``meta_keys`` present in ``results`` are
    copied into ``data_samples``; ``gt_label`` becomes a Python int.

    Args:
        meta_keys: keys copied into ``data_samples`` when present (e.g. add 'ori_shape'); ``img_source`` names an
            in-memory image ('train.rec, record 17'), so that a model's error about a sample can say which.
    """

    def __init__(self, meta_keys: Sequence[str] = ('gt_label', 'img_path', 'img_source')):
        if isinstance(meta_keys, str) or not all(isinstance(k, str) for k in meta_keys):
            raise ValueError(f'PackInputs: meta_keys must be a list of key names; got {meta_keys!r}')
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise ValueError(f"PackInputs needs results['img'] as an HxW or HxWxC array (put LoadImageFromFile "
                             f"first); got {type(img).__name__} for {results.get('img_path', 'a sample')}")
        img = img[..., None] if img.ndim == 2 else img
        chw = np.ascontiguousarray(img.transpose(2, 0, 1))
        inputs = torch.from_numpy(chw if chw.flags.writeable else chw.copy())
        data_samples = {key: results[key] for key in self.meta_keys if key in results}
        if 'gt_label' in data_samples:
            data_samples['gt_label'] = int(data_samples['gt_label'])
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys!r})'
