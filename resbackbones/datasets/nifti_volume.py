"""NIfTI volumes served whole, one sample per case (subject), for 3D segmentation: several modalities on one
grid, labels from a label volume or probability maps, spacing from the header, optional resampling to a target
spacing, and a split that holds out whole cases or one half of every volume (e.g. one hemisphere).

Samples are channel-first, as in MONAI: 'img' (C, D, H, W) float32, 'gt_seg_map' (D, H, W), where D is the
file axis ``depth_axis`` and H, W the other two in file order; 'spacing' is in the same (D, H, W) order (mm).
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Any, Callable, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from scipy import ndimage

from ..registry import DATASETS
from ..transforms.seg_intensity import check_normalize_settings, normalize_intensity
from .nifti import (AXES, check_cases, check_finite, check_labels, check_named_axis, check_same_grid, half_region,
                    labels_from_probabilities, load_volume, voxel_spacing)
from .seg_folder import build_pipeline, check_seg_classes

NAME = 'NiftiVolumeDataset'
SPLITS = ('all', 'train', 'val')


def resample(data: np.ndarray, zoom: Sequence[float], order: int) -> np.ndarray:
    """``data`` zoomed by ``zoom`` per axis (scipy spline of ``order``: 0 for labels, 1 for intensities/maps)."""
    if all(abs(z - 1) < 1e-6 for z in zoom):
        return data
    return ndimage.zoom(data, zoom, order=order, mode='nearest', grid_mode=True)


def check_val_cases(val_cases: Sequence[int], num_cases: int, split: str) -> set[int]:
    """``val_cases`` as a set, each an index into the cases (counted from 0), leaving both sides of the split
    cases: an index past the end was dropped without a word, and an empty split failed in mmengine."""
    if isinstance(val_cases, (str, int)) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                    for i in val_cases):
        raise ValueError(f'{NAME}: val_cases must be a list of case indices (from 0); got {val_cases!r}')
    outside = sorted(i for i in val_cases if not 0 <= i < num_cases)
    if outside:
        raise ValueError(f'{NAME}: val_cases {outside} are not case indices: there are {num_cases} cases, '
                         f'counted from 0 (0..{num_cases - 1})')
    if split == 'train' and val_cases and len(set(val_cases)) == num_cases:
        raise ValueError(f"{NAME}: val_cases {sorted(set(val_cases))} hold out every case, so split='train' is empty")
    return set(val_cases)


@DATASETS.register_module()
class NiftiVolumeDataset(BaseDataset):
    """Whole NIfTI volumes, one sample per case, for 3D segmentation (patches come from the pipeline).

    Args:
        cases: one dict per subject: ``images`` (a path or list: one channel per modality) and optionally ``seg``
            (label volume) or ``probs`` (probability maps of classes 1..K-1).
        classes: class names, background first. depth_axis: file axis that becomes D (0/1/2 or 'sagittal',
            'coronal', 'axial'; default axial).
        split: 'all', 'train' or 'val'. With ``split_axis`` (a file axis, e.g. 0: left-right in RAS files)
            'train' keeps the first half of every volume along it and 'val' the second half, which share no voxel
            (one hemisphere to learn, the other to test); else ``val_cases`` lists the held-out case indices.
        target_spacing: (x, y, z) mm in file-axis order to resample to (images linear, labels nearest, maps linear
            before thresholding); None keeps the file's grid.
        normalize: ``normalize_intensity`` settings per volume and channel (percentile, zscore, window ...).
        prob_threshold / prob_scale: as NiftiSliceDataset. ignore_index: label not counted.
        allow_ignore_only: as NiftiSliceDataset (accept label volumes of background and ignore_index alone).
        data_root: prefix of relative paths. pipeline: volume transforms (RandomPatch3D, RandomFlip3D ...,
            PackVolumeInputs).
    """

    def __init__(self, cases: Sequence[dict], classes: Sequence[str], depth_axis: int | str = 'axial',
                 split: str = 'all', split_axis: int | None = None, val_cases: Sequence[int] = (),
                 target_spacing: Sequence[float] | None = None, normalize: dict | None = None,
                 prob_threshold: float = 0.5, prob_scale: float = 1.0, ignore_index: int = 255,
                 allow_ignore_only: bool = False, data_root: str = '', pipeline: Sequence[dict | Callable] = (),
                 **kwargs: Any):
        self.classes = check_seg_classes(classes, NAME)
        self.allow_ignore_only = bool(allow_ignore_only)
        self.depth_axis, self.axis_name = AXES.get(depth_axis, depth_axis), depth_axis
        if self.depth_axis not in (0, 1, 2):
            raise ValueError(f'{NAME}: depth_axis must be 0, 1, 2 or one of {list(AXES)}; got {depth_axis!r}')
        if split not in SPLITS or split_axis not in (None, 0, 1, 2):
            raise ValueError(f'{NAME}: split must be one of {list(SPLITS)} and split_axis None, 0, 1 or 2; got '
                             f'{split!r}, {split_axis!r}')
        cases = check_cases(cases, NAME)
        if split != 'all' and split_axis is None and not val_cases:
            raise ValueError(f"{NAME}: split={split!r} needs split_axis (half of each volume) or val_cases")
        if isinstance(target_spacing, numbers.Real) and not isinstance(target_spacing, bool):
            target_spacing = (target_spacing,) * 3  # one size: isotropic, as MONAI's Spacingd(pixdim=1.0)
        if target_spacing is not None and not (
                isinstance(target_spacing, (list, tuple)) and len(target_spacing) == 3
                and all(isinstance(t, numbers.Real) and math.isfinite(t) and t > 0 for t in target_spacing)):
            raise ValueError(f'{NAME}: target_spacing must be a positive size or three (x, y, z) in mm; got '
                             f'{target_spacing!r}')
        self.normalize = check_normalize_settings(normalize or dict(mode='percentile', low=0.5, high=99.5), NAME)
        self.cases, self.split, self.split_axis = cases, split, split_axis
        self.val_cases = check_val_cases(val_cases, len(cases), split)
        self.target_spacing = None if target_spacing is None else tuple(float(s) for s in target_spacing)
        self.prob_threshold, self.prob_scale, self.ignore_index = prob_threshold, prob_scale, ignore_index
        self._volumes: dict[int, tuple[np.ndarray, np.ndarray | None, dict]] = {}
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.classes)
        super().__init__(data_root=data_root, pipeline=build_pipeline(pipeline), metainfo=metainfo, **kwargs)

    def _path(self, path: str) -> str:
        return path if os.path.isabs(path) or not self.data_root else os.path.join(self.data_root, path)

    def _to_dhw(self, data: np.ndarray) -> np.ndarray:
        return np.moveaxis(data, self.depth_axis - 3, -3)  # counted from the end: (X, Y, Z) or (C, X, Y, Z)

    def _load_case(self, case: dict) -> tuple[np.ndarray, np.ndarray | None, dict]:
        """(image (C, D, H, W) float32, labels (D, H, W) or None, meta: reference image, file region, zoom)."""
        files = [self._path(p) for p in ([case['images']] if isinstance(case['images'], str) else case['images'])]
        if case.get('seg') is not None and case.get('probs') is not None:
            raise ValueError(f"{NAME}: case {files[0]} gives both 'seg' and 'probs'; give one")
        label_files = [self._path(case['seg'])] if case.get('seg') else [self._path(p) for p in case.get('probs', [])]
        if case.get('probs') and len(label_files) != len(self.classes) - 1:
            raise ValueError(f'{NAME}: {len(label_files)} probability maps for classes {self.classes}; expected '
                             f'one per class after background ({len(self.classes) - 1})')
        role = 'label' if case.get('seg') else 'probability map'
        loaded = [load_volume(p, owner=NAME) for p in files] + [load_volume(p, owner=NAME, role=role)
                                                                 for p in label_files]
        reference, shape = loaded[0][0], loaded[0][1].shape
        check_named_axis(self.axis_name, reference, files[0], NAME)
        for (img, data), path in zip(loaded, files + label_files):
            check_same_grid(img, data, path, reference, files[0], shape, owner=NAME)
            check_finite(data, path, self.depth_axis, owner=NAME)
        spacing = voxel_spacing(reference)
        halves = self.split_axis is not None and self.split != 'all'
        region = half_region(shape, self.split_axis, self.split) if halves else (slice(None),) * 3
        zoom = (1.0,) * 3 if self.target_spacing is None else tuple(spacing / self.target_spacing)
        channels = [normalize_intensity(resample(d[region].astype(np.float32), zoom, 1), **self.settings_for(d))
                    for _, d in loaded[:len(files)]]
        labels = None
        if case.get('seg'):
            labels = check_labels(loaded[-1][1], label_files[0], len(self.classes), self.ignore_index,
                                  self.depth_axis, owner=NAME, allow_ignore_only=self.allow_ignore_only)
            labels = resample(labels[region], zoom, 0)
        elif label_files:
            maps = [resample(d[region].astype(np.float32), zoom, 1) for _, d in loaded[len(files):]]
            labels = labels_from_probabilities(maps, label_files, self.prob_threshold, self.prob_scale,
                                               self.depth_axis, owner=NAME, ignore_index=self.ignore_index)
        image = np.ascontiguousarray(self._to_dhw(np.stack(channels)), dtype=np.float32)
        labels = None if labels is None else np.ascontiguousarray(self._to_dhw(labels))
        # the grid made, not the one asked for: whole voxels cover the same extent (scipy's grid_mode zoom)
        grid_spacing = spacing * np.array(loaded[0][1][region].shape[:3]) / np.array(channels[0].shape)
        meta = dict(reference=reference, region=region, zoom=zoom, file_shape=shape,
                    spacing=np.array([grid_spacing[self.depth_axis], *np.delete(grid_spacing, self.depth_axis)]))
        return image, labels, meta

    def settings_for(self, data: np.ndarray) -> dict:
        """``normalize`` for one channel's file data: mode 'scale' without a scale takes the file's integer type's
        maximum, which the float32 copy made for resampling no longer shows."""
        if self.normalize.get('mode') == 'scale' and self.normalize.get('scale') is None and \
                np.issubdtype(data.dtype, np.integer):
            return dict(self.normalize, scale=float(np.iinfo(data.dtype).max))
        return self.normalize

    def _keep(self, index: int) -> bool:
        if self.split == 'all' or self.split_axis is not None:
            return True
        return (index in self.val_cases) == (self.split == 'val')

    def load_data_list(self) -> list[dict]:
        """Load and check every kept case once (volumes stay in memory); one entry per case."""
        self._volumes = {i: self._load_case(case) for i, case in enumerate(self.cases) if self._keep(i)}
        for image, labels, _ in self._volumes.values():  # shared by every sample: transforms must copy
            for array in (image, labels):
                if array is not None:
                    array.flags.writeable = False
        return [dict(img_path=self._path(case['images'] if isinstance(case['images'], str) else case['images'][0]),
                     case_idx=i, num_classes=len(self.classes), ignore_index=self.ignore_index,
                     spacing=self._volumes[i][2]['spacing'], labelled=self._volumes[i][1] is not None)
                for i, case in enumerate(self.cases) if i in self._volumes]

    def volume(self, case_idx: int) -> tuple[np.ndarray, np.ndarray | None, dict]:
        """(image (C, D, H, W), labels (D, H, W) or None, meta) of a kept case: views, not to be written."""
        if not self._fully_initialized:
            self.full_init()
        if case_idx not in self._volumes:
            raise ValueError(f'{NAME}: case {case_idx} is not in split {self.split!r} (kept: {sorted(self._volumes)})')
        return self._volumes[case_idx]

    def to_file_grid(self, case_idx: int, labels: np.ndarray) -> np.ndarray:
        """(X, Y, Z) labels, of ``labels``' dtype, on the case's file grid from (D, H, W) labels on the dataset's
        grid: axes moved back, resampling undone (nearest), the held-out half placed in its region, background
        elsewhere. (A uint8 grid wrapped labels past 255: class 300 was written as 44.)"""
        image, _, meta = self.volume(case_idx)
        if np.shape(labels) != image.shape[1:]:  # another shape was stretched onto the file grid without a word
            raise ValueError(f'{NAME}.to_file_grid: labels of case {case_idx} must be {image.shape[1:]} (D, H, W), '
                             f'the dataset grid of volume(case)[0]; got {np.shape(labels)}')
        labels = np.moveaxis(labels, -3, self.depth_axis - 3)
        out = np.zeros(meta['file_shape'], dtype=labels.dtype)
        target = out[meta['region']].shape
        if labels.shape != target:
            labels = resample(labels, [t / s for t, s in zip(target, labels.shape)], 0)
        out[meta['region']] = labels
        return out

    def get_data_info(self, idx: int) -> dict:
        """The case's dict with 'img' (C, D, H, W) and 'gt_seg_map' (D, H, W): read-only views of the cache."""
        info = super().get_data_info(idx)
        image, labels, _ = self._volumes[info['case_idx']]
        info['img'] = image
        info['img_shape'] = info['ori_shape'] = image.shape[1:]
        if labels is not None:
            info['gt_seg_map'] = labels
        return info
