"""Turn a CocoDataset sample's ``instances`` into arrays: boxes, labels, ignore flags and bitmap masks."""
from __future__ import annotations

from mmcv.transforms import BaseTransform
import numpy as np
from pycocotools import mask as mask_utils

from ..registry import TRANSFORMS


def to_rle(segmentation, height: int, width: int) -> dict:
    """COCO polygons, uncompressed or compressed RLE -> one compressed RLE."""
    if isinstance(segmentation, list):
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    if isinstance(segmentation.get('counts'), list):
        return mask_utils.frPyObjects(segmentation, height, width)
    return segmentation


def decode_masks(segmentations: list, height: int, width: int) -> np.ndarray:
    """COCO segmentations -> (N, height, width) uint8 masks of 0/1, C-contiguous.

    pycocotools decodes column by column (Fortran order); masks left that way cost every later transform a
    transposing copy of all N planes (albumentations makes each output contiguous: 25 ms instead of 1.5 for the
    nuclei Mask R-CNN's crop of 102 masks). Only each mask's box is copied into C order; the rest stays zero.
    """
    masks = np.zeros((len(segmentations), height, width), np.uint8)
    for i, segmentation in enumerate(segmentations):
        if isinstance(segmentation, list) and not segmentation:  # an unusable segmentation: an empty mask
            continue
        rle = to_rle(segmentation, height, width)
        x, y, w, h = (int(v) for v in mask_utils.toBbox(rle))
        if w and h:
            masks[i, y:y + h, x:x + w] = mask_utils.decode(rle)[y:y + h, x:x + w]
    return masks


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
            for inst in instances:
                if inst.get('mask') is None and not inst.get('mask_invalid'):
                    raise ValueError(f'{where}, annotation id {inst.get("ann_id")}: no segmentation, but the '
                                     'pipeline loads masks (with_mask=True)')
            # a segmentation CocoDataset found unusable (degenerate polygons): ignored, with an empty mask, as mmdet
            invalid = np.array([bool(i.get('mask_invalid')) for i in instances], dtype=bool)
            results['gt_ignore_flags'] |= invalid
            results['gt_masks'] = decode_masks([[] if bad else inst['mask'] for inst, bad in zip(instances, invalid)],
                                               height, width)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(with_mask={self.with_mask})'
