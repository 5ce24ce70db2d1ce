"""Non-overlapping instance masks as one label map: ``gt_masks`` (N, H, W) -> ``gt_instance_map`` (H, W).

A nuclei image has ~100 instances; kept as N full-size masks, every random crop copies, crops and flips all of them
(20 MB and ~5 ms per sample for the nuclei Mask R-CNN), though a 192-px crop keeps ~20. As one map (0 = background,
i + 1 = instance i) the crop moves one plane, and only the kept instances are expanded back into masks
(``DetAlbu``, ``DetResize`` and ``PackDetInputs`` read the map). Crops, flips, turns and nearest-neighbour warps
move a label exactly as they move a 0/1 mask, so the masks that come out are the same, bit for bit; the map only
holds masks that do not overlap (label images, such as stardist's), and overlapping ones are an error.
"""
from __future__ import annotations

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS

KEY = 'gt_instance_map'
MAX_INSTANCES = np.iinfo(np.uint16).max


def instance_map_from_masks(masks: np.ndarray, source: str = 'gt_masks') -> np.ndarray:
    """(N, H, W) masks of 0/1 -> (H, W) uint16 map, 0 where no mask is set and i + 1 where mask i is.

    Raises ValueError naming ``source`` when two masks share a pixel or there are more than 65,535 masks.
    """
    if masks.ndim != 3:
        raise ValueError(f'InstanceMap: {source} must be (N, H, W) masks; got shape {masks.shape}')
    if len(masks) > MAX_INSTANCES:
        raise ValueError(f'InstanceMap: {source} has {len(masks)} instances; a map holds at most {MAX_INSTANCES}')
    instance_map = np.zeros(masks.shape[1:], np.uint16)
    claimed = np.zeros(masks.shape[1:], np.uint16)
    for i, mask in enumerate(masks):
        on = mask != 0
        instance_map[on] = i + 1
        claimed += on
    shared = int(np.count_nonzero(claimed > 1))
    if shared:
        raise ValueError(f'InstanceMap: masks in {source} overlap ({shared} pixels belong to more than one '
                         'instance); a map holds only non-overlapping masks: drop InstanceMap from the pipeline '
                         'to keep them as separate masks')
    return instance_map


def masks_from_instance_map(instance_map: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(len(index), H, W) uint8 masks of 0/1: mask k is where the map holds instance ``index[k]`` (its value + 1)."""
    labels = np.asarray(index, dtype=np.int64).reshape(-1, 1, 1) + 1
    return (instance_map[None] == labels).astype(np.uint8)


@TRANSFORMS.register_module()
class InstanceMap(BaseTransform):
    """Replace ``gt_masks`` (N, H, W) by ``gt_instance_map`` (H, W) uint16 (0 = background, i + 1 = instance i).

    Put it after ``LoadDetAnnotations(with_mask=True)``, in the part of the pipeline a ``CachedDataset`` keeps; the
    transforms after it give back ``gt_masks`` of the instances that remain. The image path is named in errors.
    """

    def transform(self, results: dict) -> dict:
        if 'gt_masks' not in results:
            raise ValueError(f"InstanceMap: {results.get('img_path', 'the sample')} has no gt_masks; load them "
                             'first (LoadDetAnnotations(with_mask=True))')
        masks = np.asarray(results.pop('gt_masks'))
        results[KEY] = instance_map_from_masks(masks, f"gt_masks of {results.get('img_path', 'the sample')}")
        return results
