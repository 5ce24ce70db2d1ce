"""Segmentation metric: per-class and mean Dice and IoU over a data set, optionally 95% Hausdorff distance.

Dice and IoU come from one confusion matrix summed over every evaluated pixel or voxel (as mmseg does), so a slice or
crop without some class does not count as a perfect or failed image. HD95 is computed per image and class with
scipy's Euclidean distance transform and averaged over the images where both prediction and ground truth hold the
class (when one of them is empty the distance is undefined; Dice already penalises that case).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from scipy import ndimage

from ..registry import METRICS

METRIC_NAMES = ('dice', 'iou')


def hd95(pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float] | None = None) -> float:
    """95th percentile of the symmetric surface distances between two boolean masks; nan if either is empty.

    Args:
        pred, gt: boolean arrays of the same shape (2D or 3D). spacing: pixel size per axis (default 1).
    """
    if not pred.any() or not gt.any():
        return float('nan')
    pred_border = pred ^ ndimage.binary_erosion(pred)
    gt_border = gt ^ ndimage.binary_erosion(gt)
    to_gt = ndimage.distance_transform_edt(~gt_border, sampling=spacing)[pred_border]
    to_pred = ndimage.distance_transform_edt(~pred_border, sampling=spacing)[gt_border]
    return float(np.percentile(np.concatenate([to_gt, to_pred]), 95))


def spatial_shape(shape: Sequence[int], rank: int, where: str) -> tuple[int, ...]:
    """``shape`` without the leading size-1 (channel) axes beyond ``rank`` spatial ones; ValueError otherwise."""
    shape = tuple(shape)
    while len(shape) > rank and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != rank:
        raise ValueError(f'SegMetric: {where}: spacing has {rank} entries but the label map has shape {shape}')
    return shape


def confusion(pred: np.ndarray, gt: np.ndarray, num_classes: int, ignore_index: int) -> np.ndarray:
    """(num_classes, num_classes) counts, rows = ground truth, columns = prediction, ignored pixels left out."""
    valid = gt != ignore_index
    index = gt[valid].astype(np.int64) * num_classes + pred[valid].astype(np.int64)
    return np.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes)


@METRICS.register_module()
class SegMetric(BaseMetric):
    """Dice and IoU per class ('dice_<name>', 'iou_<name>') and their means ('mDice', 'mIoU'), as fractions 0-1.

    Args:
        classes: class names in label order; default the evaluated dataset's ``metainfo['classes']``.
        ignore_index: ground-truth label left out of every count.
        mean_over: 'foreground' (classes 1..K-1: the usual medical report) or 'all' classes.
        hd95: also report 'hd95_<name>' and 'mHD95' (pixels, or the sample's 'spacing' units when given: mm for
            NIfTI samples, one size per axis of the map, (D, H, W) for volumes).
        collect_device / prefix: mmengine BaseMetric options; keys are prefixed 'seg/' by default.

    A class absent from both prediction and ground truth everywhere is reported as nan and left out of the mean.
    """

    default_prefix = 'seg'

    def __init__(self, classes: Sequence[str] | None = None, ignore_index: int = 255, mean_over: str = 'foreground',
                 hd95: bool = False, collect_device: str = 'cpu', prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mean_over not in ('foreground', 'all'):
            raise ValueError(f"SegMetric: mean_over must be 'foreground' or 'all'; got {mean_over!r}")
        if classes is not None and (isinstance(classes, str) or len(classes) < 2):
            raise ValueError(f'SegMetric: classes must list at least 2 names (background first); got {classes!r}')
        self._classes = None if classes is None else tuple(classes)
        self.ignore_index, self.mean_over, self.with_hd95 = ignore_index, mean_over, hd95

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names: given ones, else the dataset's metainfo (set by mmengine's Runner)."""
        classes = self._classes or tuple((self.dataset_meta or {}).get('classes') or ())
        if len(classes) < 2:
            raise ValueError("SegMetric: class names unknown; pass classes=[...] or evaluate a dataset whose "
                             "metainfo has 'classes'")
        return classes

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep each prediction's confusion matrix (and HD95 per class) against its 'gt_sem_seg'."""
        num_classes = len(self.classes)
        for i, sample in enumerate(data_samples):
            where = sample.get('img_path', f'prediction {i}') if isinstance(sample, dict) else f'prediction {i}'
            if not isinstance(sample, dict) or 'pred_sem_seg' not in sample or 'gt_sem_seg' not in sample:
                raise ValueError(f"SegMetric: {where} must be a dict with 'pred_sem_seg' and 'gt_sem_seg' "
                                 f"(UNet 'predict' output on a dataset with masks)")
            pred = torch.as_tensor(sample['pred_sem_seg']).detach().cpu().numpy().squeeze()
            gt = torch.as_tensor(sample['gt_sem_seg']).detach().cpu().numpy().squeeze()
            if pred.shape != gt.shape:
                raise ValueError(f'SegMetric: {where}: prediction {pred.shape} and ground truth {gt.shape} differ')
            labels = gt[gt != self.ignore_index]
            # a negative prediction was counted in the row above its ground truth (index gt * K + pred)
            if labels.size and (labels.min() < 0 or labels.max() >= num_classes or pred.min() < 0
                                or pred.max() >= num_classes):
                raise ValueError(f'SegMetric: {where}: labels must be in [0, {num_classes}) ({self.classes}) or '
                                 f'ignore_index={self.ignore_index}; found gt {labels.min()}..{labels.max()}, '
                                 f'pred {pred.min()}..{pred.max()}')
            matrix = confusion(pred, gt, num_classes, self.ignore_index)
            distances = None
            if self.with_hd95:
                spacing = sample.get('spacing')
                spacing = None if spacing is None else [float(s) for s in spacing]
                if spacing is not None:  # squeeze() also dropped size-1 spatial axes, which spacing still counts
                    grid = spatial_shape(np.shape(sample['gt_sem_seg']), len(spacing), where)
                    pred, gt = pred.reshape(grid), gt.reshape(grid)
                valid = gt != self.ignore_index
                distances = [hd95((pred == c) & valid, gt == c, spacing) for c in range(num_classes)]
            self.results.append((matrix, distances))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Dataset-level Dice/IoU per class and means; HD95 averaged over images where it is defined."""
        if not results:
            raise ValueError('SegMetric: no predictions were processed (is the evaluation dataset empty?)')
        matrix = sum(m for m, _ in results).astype(np.float64)
        inter, pred_area, gt_area = np.diag(matrix), matrix.sum(0), matrix.sum(1)
        with np.errstate(invalid='ignore', divide='ignore'):
            scores = {'dice': 2 * inter / (pred_area + gt_area), 'iou': inter / (pred_area + gt_area - inter)}
        if self.with_hd95:
            per_image = np.array([d for _, d in results], dtype=np.float64)
            counts = np.isfinite(per_image).sum(0)
            scores['hd95'] = np.where(counts > 0, np.nansum(per_image, 0) / np.maximum(counts, 1), np.nan)
        first = 1 if self.mean_over == 'foreground' else 0
        means: dict[str, float] = {}
        per_class: dict[str, float] = {}
        for name, values in scores.items():
            for cls, value in zip(self.classes, values):
                per_class[f'{name}_{cls}'] = float(value)
            kept = values[first:][np.isfinite(values[first:])]
            means[{'dice': 'mDice', 'iou': 'mIoU', 'hd95': 'mHD95'}[name]] = float(kept.mean()) if kept.size else \
                float('nan')
        # the means first: save_best='auto' (the default runtime's) takes the first key, which was the background's
        # Dice ('seg/dice_background': mmengine cannot infer a rule for it, and it would pick the wrong checkpoint)
        return {**means, **per_class}
