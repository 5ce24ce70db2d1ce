"""Pack a detection sample: a CxHxW image tensor plus a data sample holding gt_instances and the image meta."""
from __future__ import annotations

from typing import Sequence

from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement, InstanceData
import numpy as np
import torch

from ..registry import TRANSFORMS
from .instance_map import KEY as INSTANCE_MAP, masks_from_instance_map

META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'pad_shape', 'geometry_moved')


@TRANSFORMS.register_module()
class PackDetInputs(BaseTransform):
    """``dict(inputs=CxHxW uint8 tensor, data_samples=BaseDataElement)`` as the detectors expect.

    ``gt_instances`` holds the instances that are not ignored (``bboxes`` float32 (N, 4), ``labels`` int64,
    ``masks`` uint8 (N, H, W) when loaded, from ``gt_masks`` or a ``gt_instance_map``); crowd instances go to
    ``ignored_instances`` (mmdet's layout).
    ``scale_factor`` defaults to (1.0, 1.0) and ``img_shape`` to the image's size.
    """

    def __init__(self, meta_keys: Sequence[str] = META_KEYS):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        img = img[..., None] if img.ndim == 2 else img
        results.setdefault('img_shape', img.shape[:2])
        results.setdefault('ori_shape', img.shape[:2])
        results.setdefault('scale_factor', (1.0, 1.0))
        sample = BaseDataElement(metainfo={k: results[k] for k in self.meta_keys if k in results})
        if INSTANCE_MAP in results and 'gt_masks' not in results:
            instance_map = results.pop(INSTANCE_MAP)
            results['gt_masks'] = masks_from_instance_map(instance_map, np.arange(len(results.get('gt_bboxes', ()))))
        if 'gt_masks' in results and tuple(results['gt_masks'].shape[1:]) != tuple(img.shape[:2]):
            raise ValueError(
                f"PackDetInputs: {results.get('img_path', 'the sample')}: gt_masks are {results['gt_masks'].shape[1:]} "
                f'but the image is {img.shape[:2]}: a transform changed the image without its masks (mmcv\'s Resize '
                'and RandomResize, and mmcv\'s Pad, leave masks alone; DetResize and DetAlbu move them together, '
                'and the detector pads batches itself)')
        if 'gt_bboxes' in results:
            where = f"PackDetInputs: {results.get('img_path', 'the sample')}"
            if 'gt_labels' not in results:
                raise ValueError(f'{where} has gt_bboxes but no gt_labels (LoadDetAnnotations loads both)')
            # 0/1 integers as well as booleans: '~' of an int array is -1/-2, which picked the wrong instances
            ignore = np.asarray(results.get('gt_ignore_flags', np.zeros(len(results['gt_bboxes']), bool))) != 0
            for name, keep in (('gt_instances', ~ignore), ('ignored_instances', ignore)):
                inst = InstanceData(bboxes=torch.from_numpy(results['gt_bboxes'][keep]),
                                    labels=torch.from_numpy(results['gt_labels'][keep]))
                if 'gt_masks' in results:
                    inst.masks = torch.from_numpy(np.ascontiguousarray(results['gt_masks'][keep]))
                setattr(sample, name, inst)
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys!r})'
