"""Turn a CocoDataset sample's ``instances`` into arrays: boxes, labels, ignore flags and bitmap masks."""
from __future__ import annotations

from mmcv.transforms import BaseTransform
import numpy as np
from pycocotools import mask as mask_utils

from ..registry import TRANSFORMS


def decode_mask(segmentation, height: int, width: int) -> np.ndarray:
    """COCO polygons, uncompressed or compressed RLE -> (height, width) uint8 mask of 0/1."""
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get('counts'), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(np.uint8)


@TRANSFORMS.register_module()
class LoadDetAnnotations(BaseTransform):
    """Add ``gt_bboxes`` (N, 4) float32 xyxy, ``gt_labels`` (N,) int64, ``gt_ignore_flags`` (N,) bool and, with
    ``with_mask``, ``gt_masks`` (N, H, W) uint8 to ``results`` (mmdet's LoadAnnotations, on numpy arrays).

    Checks that the loaded image has the size the annotation file gives it (else every box would be silently
    wrong) and, with masks, that each instance has a segmentation; errors name the image file and annotation id.
    """

    def __init__(self, with_mask: bool = False):
        self.with_mask = with_mask

    def transform(self, results: dict) -> dict:
        instances = results.get('instances', [])
        height, width = int(results['height']), int(results['width'])
        where = f"{results.get('img_path')} (image id {results.get('img_id')})"
        if 'img' in results and tuple(results['img'].shape[:2]) != (height, width):
            raise ValueError(f'{where}: the image is {tuple(results["img"].shape[:2])} (h, w) but the annotation '
                             f'file says ({height}, {width})')
        results['gt_bboxes'] = np.array([i['bbox'] for i in instances], dtype=np.float32).reshape(-1, 4)
        results['gt_labels'] = np.array([i['bbox_label'] for i in instances], dtype=np.int64)
        results['gt_ignore_flags'] = np.array([i.get('ignore_flag', 0) for i in instances], dtype=bool)
        if self.with_mask:
            masks = []
            for inst in instances:
                if inst.get('mask') is None:
                    raise ValueError(f'{where}, annotation id {inst.get("ann_id")}: no segmentation, but the '
                                     'pipeline loads masks (with_mask=True)')
                masks.append(decode_mask(inst['mask'], height, width))
            results['gt_masks'] = np.stack(masks) if masks else np.zeros((0, height, width), np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(with_mask={self.with_mask})'
