"""NIfTI volumes (CT, MRI) served as 2D slices along one axis, with labels from a label volume or from
probability maps, intensities normalised per volume (percentile, z-score, CT window ...)."""
from __future__ import annotations

import os
import zlib
from typing import Any, Callable, Sequence

import nibabel as nib
import numpy as np
from mmengine.dataset import BaseDataset

from ..registry import DATASETS
from ..transforms.seg_intensity import check_normalize_settings, normalize_intensity
from ..transforms.seg_loading import refuse_only_ignore
from .seg_folder import build_pipeline, check_seg_classes

NAME = 'NiftiSliceDataset'
def check_cases(cases: Any, owner: str) -> list[dict]:
    """``cases`` as a list of dicts, each with 'images' a path or a non-empty list of paths; ValueError naming
    ``owner`` and the case otherwise (an empty list failed later with an IndexError traceback)."""
    if isinstance(cases, dict) or not cases or not all(isinstance(c, dict) and 'images' in c for c in cases):
        raise ValueError(f"{owner}: cases must be a non-empty list of dicts with 'images' (and 'seg' or "
                         f"'probs'); got {cases!r}")
    for i, case in enumerate(cases):
        images = case['images']
        if not (isinstance(images, str) and images) and not (
                isinstance(images, (list, tuple)) and images and all(isinstance(p, str) and p for p in images)):
            raise ValueError(f"{owner}: case {i}: 'images' must be a path or a non-empty list of paths (one per "
                             f"modality); got {images!r}")
    return [dict(c) for c in cases]


def voxel_spacing(img: nib.Nifti1Image) -> np.ndarray:
    """(x, y, z) voxel sizes in mm from the affine, as MONAI reads them: the grid checks and the saved predictions
    use the affine, and a header whose pixdim was not updated with it gave wrong spacings (resampling, HD95)."""
    return np.asarray(nib.affines.voxel_sizes(img.affine)[:3], dtype=np.float64)


def check_named_axis(name: Any, reference: nib.Nifti1Image, path: str, owner: str) -> None:
    """A named axis ('axial' ...) stands for a file axis as stored in RAS-like files (AXES); ValueError when the
    file's affine runs another direction along it (a sagittal acquisition stored P-I-R), naming the right axis."""
    if not isinstance(name, str) or name not in AXES:
        return
    codes, axis = nib.aff2axcodes(reference.affine), AXES[name]
    if codes[axis] in AXIS_DIRECTIONS[name]:
        return
    actual = next((i for i, code in enumerate(codes) if code in AXIS_DIRECTIONS[name]), None)
    raise ValueError(f"{owner}: {path} stores its axes as {''.join(map(str, codes))}: {name!r} means file axis {axis} "
                     f"(as stored in RAS files), which here runs {codes[axis]}; its {name} axis is file axis {actual}: "
                     f"give that number, or reorient the files (nibabel.as_closest_canonical)")


def case_files(case: dict, data_root: str = '') -> list[str]:
    """Every file a case dict names (its images, then 'seg' or 'probs'), relative paths under ``data_root``."""
    images = [case['images']] if isinstance(case['images'], str) else list(case['images'])
    labels = [case['seg']] if case.get('seg') else list(case.get('probs') or [])
    return [p if os.path.isabs(p) or not data_root else os.path.join(data_root, p) for p in images + labels]


AXES = {'sagittal': 0, 'coronal': 1, 'axial': 2}
AXIS_DIRECTIONS = {'sagittal': 'LR', 'coronal': 'AP', 'axial': 'SI'}  # the affine's letters along each named axis
SPLITS = ('all', 'train', 'val')
AFFINE_TOL = 1e-3  # mm: headers written by different tools round the affine differently
NOT_3D_HINTS = {'image': 'give each modality of a 4D file as its own file',
                'label': 'a label file holds one 3D volume of class labels',
                'probability map': "give each class's map as its own 3D file"}

# The helpers below are shared by NiftiSliceDataset and NiftiVolumeDataset: ``owner`` names the dataset in errors.


def load_volume(path: str, *, owner: str, role: str = 'image') -> tuple[nib.Nifti1Image, np.ndarray]:
    """(image, 3D array in the file's dtype); errors name the file when it is missing, unreadable or not 3D, with a
    hint that fits its ``role`` ('image', 'label' or 'probability map')."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{owner}: NIfTI file not found: {path}')
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except (nib.filebasedimages.ImageFileError, OSError, EOFError, zlib.error, ValueError) as err:
        raise ValueError(f'{owner}: cannot read NIfTI file {path}: {type(err).__name__}: {err}') from err
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f'{owner}: {path} holds a {data.ndim}D array of shape {data.shape}; expected a 3D volume '
                         f'({NOT_3D_HINTS[role]})')
    return img, data


def check_same_grid(img: nib.Nifti1Image, data: np.ndarray, path: str, ref: nib.Nifti1Image, ref_path: str,
                    shape: tuple[int, ...], *, owner: str) -> None:
    """ValueError naming both files when shape or affine disagree: same shape alone does not put two files on one
    grid (a label file stored flipped in x, a channel shifted in space)."""
    if data.shape != shape:
        axis = next(i for i, (a, b) in enumerate(zip(data.shape, shape)) if a != b)
        raise ValueError(f'{owner}: {path} has shape {data.shape} but {ref_path} has {shape} (they differ along '
                         f'axis {axis}); every volume of a case must share the voxel grid')
    diff = np.abs(img.affine - ref.affine)[:3]
    if diff.max() > AFFINE_TOL:
        where = [f'axis {j} direction/spacing by up to {diff[:, j].max():g}' for j in range(3)
                 if diff[:, j].max() > AFFINE_TOL]
        where += [f'origin by up to {diff[:, 3].max():g} mm'] if diff[:, 3].max() > AFFINE_TOL else []
        unoriented = 'it has no orientation (qform and sform codes 0): copy the header of the image into it, or ' \
            if int(img.header['sform_code']) == 0 and int(img.header['qform_code']) == 0 else ''
        raise ValueError(f'{owner}: {path} and {ref_path} have different affines ({", ".join(where)}); '
                         f'{unoriented}resample them onto one grid first')


def half_region(shape: Sequence[int], axis: int, split: str) -> tuple[slice, ...]:
    """Index of one half of a volume along ``axis``: 'train' the first half [0, n // 2), 'val' (or 'test') the
    second [n // 2, n). The halves share no voxel: with axis 0 of an RAS file, two hemispheres."""
    if split not in ('train', 'val', 'test'):
        raise ValueError(f"half split needs split 'train' or 'val'; got {split!r}")
    middle = shape[axis] // 2
    region = [slice(None)] * len(shape)
    region[axis] = slice(0, middle) if split == 'train' else slice(middle, shape[axis])
    return tuple(region)


def bad_slices(mask: np.ndarray, axis: int) -> list[int]:
    """Indices along ``axis`` of the slices where ``mask`` has any True voxel."""
    return np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))[0].tolist()


def check_finite(data: np.ndarray, path: str, axis: int, *, owner: str) -> None:
    """ValueError naming the file and the slices along ``axis`` that hold NaN or inf voxels."""
    if np.issubdtype(data.dtype, np.floating):
        bad = ~np.isfinite(data)
        if bad.any():
            slices = bad_slices(bad, axis)
            raise ValueError(f'{owner}: {path} has {int(bad.sum())} NaN/inf voxels in slice(s) {slices[:10]}'
                             f'{" ..." if len(slices) > 10 else ""} along axis {axis}; repair or mask them first')


def label_dtype(num_classes: int, ignore_index: int) -> np.dtype:
    """The smallest dtype that holds labels 0..num_classes-1 and ignore_index as they are (-1 stays -1, so the
    fill of a transform or of padding is ignored, not wrapped to 255 or to background)."""
    return np.result_type(np.min_scalar_type(num_classes - 1), np.min_scalar_type(ignore_index))


def labels_from_probabilities(maps: Sequence[np.ndarray], files: Sequence[str], threshold: float, scale: float,
                              axis: int, *, owner: str, ignore_index: int = 255) -> np.ndarray:
    """Labels k + 1 where map k is the largest and >= threshold, else 0 (background), in ``label_dtype``."""
    probs = []
    for data, path in zip(maps, files):
        check_finite(data, path, axis, owner=owner)
        p = data.astype(np.float32) / scale
        if p.min() < -1e-6 or p.max() > 1 + 1e-6:
            raise ValueError(f'{owner}: probability map {path} has values {p.min():g}..{p.max():g} after dividing '
                             f'by prob_scale={scale}; expected 0..1 (maps stored as 0-255 need prob_scale=255)')
        probs.append(p)
    stack = np.stack(probs)
    labels = np.where(stack.max(0) >= threshold, stack.argmax(0) + 1, 0)
    return labels.astype(label_dtype(len(maps) + 1, ignore_index))


def check_labels(labels: np.ndarray, path: str, num_classes: int, ignore_index: int, axis: int, *,
                 owner: str, allow_ignore_only: bool = False) -> np.ndarray:
    """Integer labels in [0, num_classes) or ignore_index, in the smallest dtype that holds both as they are
    (ignore_index=-1 stays -1, for a loss told so); ValueError names the file and offending slices.
    ``allow_ignore_only`` accepts a volume of background and ignore_index alone (else refused: a binary mask saved
    as 0/255 would otherwise train on no foreground at all)."""
    check_finite(labels, path, axis, owner=owner)
    if not np.issubdtype(labels.dtype, np.integer) and not np.all(labels == np.round(labels)):
        raise ValueError(f'{owner}: label volume {path} has non-integer values; expected class labels')
    labels = labels.astype(np.int64)
    bad = ((labels < 0) | (labels >= num_classes)) & (labels != ignore_index)
    if bad.any():
        raise ValueError(f'{owner}: label volume {path} has values {np.unique(labels[bad])[:10].tolist()} outside '
                         f'0..{num_classes - 1} in slice(s) {bad_slices(bad, axis)[:10]} along axis {axis}')
    if not allow_ignore_only:
        refuse_only_ignore(labels, f'{owner}: label volume {path}', ignore_index,
                           'to count those voxels as foreground relabel them as 1 (or, for a volume that really '
                           'holds only background and void, pass allow_ignore_only=True)')
    return labels.astype(label_dtype(num_classes, ignore_index))


@DATASETS.register_module()
class NiftiSliceDataset(BaseDataset):
    """2D slices of NIfTI volumes along ``axis``; each sample is one slice of one case.

    Args:
        cases: one dict per subject: ``images`` (a path or list of paths: one channel per modality, e.g. T1, T2,
            FLAIR) and optionally ``seg`` (label volume) or ``probs`` (probability maps of classes 1..K-1).
        classes: class names, background first. axis: 0/1/2 or 'sagittal'/'coronal'/'axial' (voxel axes).
        split: 'all', 'train' or 'val': 'val' keeps slices whose index is a multiple of ``holdout_every``,
            'train' the others (neighbouring slices are correlated, so whole subjects are better splits when
            there are several). With ``split_axis`` (a file axis other than ``axis``) every slice is cut instead:
            'train' keeps the first half of the volume along it, 'val' the second (e.g. hemispheres along 0).
        normalize: ``normalize_intensity`` settings applied per volume and channel, e.g. dict(mode='percentile',
            low=0.5, high=99.5) or for CT dict(mode='window', level=40, width=400).
        prob_threshold / prob_scale: a voxel gets class k+1 when probs[k] / prob_scale is the largest and at
            least the threshold. ignore_index: label not counted.
        allow_ignore_only: accept label volumes whose only labels are 0 and ``ignore_index``; off, such a volume
            is refused as a likely 0/255 binary mask.
        data_root: prefix of relative paths. pipeline: transforms after slicing (SegAlbu, RandomPatch, PackSegInputs).

    Samples enter the pipeline with 'img' (HxWxC float32), 'gt_seg_map' (HxW int64, when labelled), 'img_path'
    (first image file), 'case_idx', 'slice_idx' and 'spacing' (in-plane voxel size).
    """

    def __init__(self, cases: Sequence[dict], classes: Sequence[str], axis: int | str = 'axial', split: str = 'all',
                 holdout_every: int = 5, split_axis: int | None = None, normalize: dict | None = None,
                 prob_threshold: float = 0.5,
                 prob_scale: float = 1.0, ignore_index: int = 255, allow_ignore_only: bool = False,
                 data_root: str = '', pipeline: Sequence[dict | Callable] = (), **kwargs: Any):
        self.classes = check_seg_classes(classes, NAME)
        self.allow_ignore_only = bool(allow_ignore_only)
        self.axis, self.axis_name = AXES.get(axis, axis), axis
        if self.axis not in (0, 1, 2):
            raise ValueError(f'{NAME}: axis must be 0, 1, 2 or one of {list(AXES)}; got {axis!r}')
        if split not in SPLITS or not isinstance(holdout_every, int) or holdout_every < 2:
            raise ValueError(f'{NAME}: split must be one of {list(SPLITS)} and holdout_every an int >= 2; '
                             f'got {split!r}, {holdout_every!r}')
        if split_axis not in (None, 0, 1, 2) or split_axis == self.axis:
            raise ValueError(f'{NAME}: split_axis must be None or a file axis other than the slicing axis '
                             f'{self.axis}; got {split_axis!r}')
        self.split_axis = split_axis
        self.normalize = check_normalize_settings(normalize or dict(mode='percentile', low=0.5, high=99.5), NAME)
        self.cases, self.split, self.holdout_every = check_cases(cases, NAME), split, holdout_every
        self.prob_threshold, self.prob_scale, self.ignore_index = prob_threshold, prob_scale, ignore_index
        self._volumes: list[tuple[np.ndarray, np.ndarray | None, nib.Nifti1Image]] = []  # slice-major
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.classes)
        super().__init__(data_root=data_root, pipeline=build_pipeline(pipeline), metainfo=metainfo, **kwargs)

    def _path(self, path: str) -> str:
        return path if os.path.isabs(path) or not self.data_root else os.path.join(self.data_root, path)

    def _load_case(self, case: dict) -> tuple[np.ndarray, np.ndarray | None, nib.Nifti1Image]:
        files = [self._path(p) for p in ([case['images']] if isinstance(case['images'], str) else case['images'])]
        loaded = [load_volume(p, owner=NAME) for p in files]
        reference, shape = loaded[0][0], loaded[0][1].shape
        check_named_axis(self.axis_name, reference, files[0], NAME)
        channels = []
        for (img, data), path in zip(loaded, files):
            check_same_grid(img, data, path, reference, files[0], shape, owner=NAME)
            check_finite(data, path, self.axis, owner=NAME)
            channels.append(normalize_intensity(data[self.region(shape)], **self.normalize))
        labels = None
        if case.get('seg') is not None and case.get('probs') is not None:
            raise ValueError(f"{NAME}: case {files[0]} gives both 'seg' and 'probs'; give one")
        label_files = [self._path(case['seg'])] if case.get('seg') else [self._path(p) for p in case.get('probs', [])]
        if label_files:
            role = 'label' if case.get('seg') else 'probability map'
            volumes = []
            for path in label_files:
                img, data = load_volume(path, owner=NAME, role=role)
                check_same_grid(img, data, path, reference, files[0], shape, owner=NAME)
                volumes.append(data[self.region(shape)])
            if case.get('seg'):
                labels = check_labels(volumes[0], label_files[0], len(self.classes), self.ignore_index, self.axis,
                                      owner=NAME, allow_ignore_only=self.allow_ignore_only)
            else:
                if len(label_files) != len(self.classes) - 1:
                    raise ValueError(f'{NAME}: {len(label_files)} probability maps for classes {self.classes}; '
                                     f'expected one per class after background ({len(self.classes) - 1})')
                labels = labels_from_probabilities(volumes, label_files, self.prob_threshold, self.prob_scale,
                                                   self.axis, owner=NAME, ignore_index=self.ignore_index)
        # slice-major copies (S, H, W, C) and (S, H, W): cutting a slice is then a view, not a strided gather
        image = np.ascontiguousarray(np.moveaxis(np.stack(channels), 1 + self.axis, 0).transpose(0, 2, 3, 1))
        labels = None if labels is None else np.ascontiguousarray(np.moveaxis(labels, self.axis, 0))
        return image, labels, reference

    def region(self, shape: Sequence[int]) -> tuple[slice, ...]:
        """The part of each volume this split reads: all of it, or one half along ``split_axis``."""
        if self.split_axis is None or self.split == 'all':
            return (slice(None),) * 3
        return half_region(shape, self.split_axis, self.split)

    def _keep(self, index: int) -> bool:
        if self.split == 'all' or self.split_axis is not None:
            return True
        return (index % self.holdout_every == 0) == (self.split == 'val')

    def load_data_list(self) -> list[dict]:
        """Load and check every case once (volumes stay in memory), then list the kept slices."""
        self._volumes = [self._load_case(case) for case in self.cases]
        data_list = []
        for case_idx, (image, labels, reference) in enumerate(self._volumes):
            zooms = [float(z) for i, z in enumerate(voxel_spacing(reference)) if i != self.axis]
            for index in range(image.shape[0]):
                if self._keep(index):
                    data_list.append(dict(img_path=reference.get_filename(), case_idx=case_idx, slice_idx=index,
                                          spacing=np.array(zooms), num_classes=len(self.classes),
                                          ignore_index=self.ignore_index, labelled=labels is not None))
        return data_list

    def volume(self, case_idx: int) -> tuple[np.ndarray, np.ndarray | None, nib.Nifti1Image]:
        """(normalised image (C, X, Y, Z) float32, labels (X, Y, Z) or None, the first image as loaded): views on
        the voxel grid of the files."""
        if not self._fully_initialized:
            self.full_init()
        image, labels, reference = self._volumes[case_idx]
        image = np.moveaxis(np.moveaxis(image, 3, 0), 1, 1 + self.axis)
        return image, None if labels is None else np.moveaxis(labels, 0, self.axis), reference

    def get_data_info(self, idx: int) -> dict:
        """The slice's dict with 'img' (HxWxC float32) and 'gt_seg_map' (HxW int64) cut from the cached case."""
        info = super().get_data_info(idx)
        image, labels, _ = self._volumes[info['case_idx']]
        info['img'] = image[info['slice_idx']].copy()
        info['img_shape'] = info['ori_shape'] = info['img'].shape[:2]
        if labels is not None:
            info['gt_seg_map'] = labels[info['slice_idx']].astype(np.int64)
        return info
