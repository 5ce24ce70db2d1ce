"""Segment a 3D volume, slice by slice with a 2D model or whole with a 3D one, and save the labels as NIfTI on
the original grid.

2D: the slices are cut along ``axis`` exactly as NiftiSliceDataset cuts them, predicted in batches (whole slices
or sliding windows, as the model's test_cfg says), and stacked back along the same axis. 3D: the (C, D, H, W)
volume goes through the model's test_cfg (3D sliding windows for volumes larger than memory allows). Either way
the label volume shares the voxel grid, affine and header of the input volume.
"""
from __future__ import annotations

import gzip
import os

import nibabel as nib
import numpy as np
import torch
from torch import nn

from ..engine.atomic import atomic_path


@torch.no_grad()
def predict_volume(model: nn.Module, image: np.ndarray | torch.Tensor, axis: int, batch_size: int = 8) -> np.ndarray:
    """(X, Y, Z) labels (uint8; uint16 past 256 classes) of a normalised (C, X, Y, Z) volume, predicted slice by
    slice along ``axis``.

    Args:
        model: a segmentor with ``predict_logits``, ``probabilities`` and ``labels`` (UNet); put in eval mode.
        image: intensities normalised as in training (e.g. ``NiftiSliceDataset.volume(i)[0]``).
        axis: 0, 1 or 2, the voxel axis the model's training slices were cut along.
        batch_size: slices per forward pass.
    """
    image = as_volume(image)
    if image.ndim != 4:
        raise ValueError(f'predict_volume: image must be (C, X, Y, Z); got shape {image.shape}')
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (axis, batch_size)) or \
            axis not in (0, 1, 2) or batch_size < 1:
        raise ValueError(f'predict_volume: axis must be 0, 1 or 2 and batch_size an integer >= 1; got {axis!r}, '
                         f'{batch_size!r}')
    if getattr(model, 'dims', 2) == 3:  # failed inside the sliding windows on a patch_size of three sides
        raise ValueError(f'predict_volume: {type(model).__name__} is a 3D model; use predict_volume_3d (whole volumes)')
    model.eval()
    device = next(model.parameters()).device
    slices = np.moveaxis(image, 1 + axis, 0)  # (S, C, H, W)
    labels = []
    for start in range(0, slices.shape[0], batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(slices[start:start + batch_size], dtype=np.float32))
        probs = model.probabilities(model.predict_logits(batch.to(device)))
        labels.append(model.labels(probs).cpu().numpy().astype(label_dtype(probs.shape[1])))
    return np.moveaxis(np.concatenate(labels), 0, axis)


@torch.no_grad()
def predict_volume_3d(model: nn.Module, image: np.ndarray | torch.Tensor) -> np.ndarray:
    """(D, H, W) labels (uint8; uint16 past 256 classes) of a normalised (C, D, H, W) volume with a 3D segmentor
    (``UNet`` on a volumetric backbone), in eval mode, through its test_cfg ('whole' or 3D 'slide' windows)."""
    image = as_volume(image)
    if image.ndim != 4:
        raise ValueError(f'predict_volume_3d: image must be (C, D, H, W); got shape {image.shape}')
    if getattr(model, 'dims', 2) != 3:
        raise ValueError(f'predict_volume_3d: {type(model).__name__} is a 2D model; use predict_volume (slices)')
    model.eval()
    device = next(model.parameters()).device
    batch = torch.from_numpy(np.array(image, dtype=np.float32))[None].to(device)
    probs = model.probabilities(model.predict_logits(batch))
    return model.labels(probs)[0].cpu().numpy().astype(label_dtype(probs.shape[1]))


def as_volume(image) -> np.ndarray:
    """A numpy array of ``image`` (a torch tensor too: both predictors take either)."""
    return image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)


def label_dtype(num_labels: int) -> type:
    """The smallest unsigned integer type for labels 0..num_labels-1: uint8 up to 256 classes, else uint16."""
    if num_labels > 65536:
        raise ValueError(f'labels of {num_labels} classes do not fit a uint16 NIfTI volume (at most 65,536)')
    return np.uint8 if num_labels <= 256 else np.uint16


def save_nifti(path: str | os.PathLike, labels: np.ndarray, reference: nib.Nifti1Image) -> str:
    """Write ``labels`` to ``path`` (.nii or .nii.gz) with the reference's affine and header: uint8 (uint16 past 256
    classes), no intensity scaling, display range 0..max label; atomic, with the umask's permissions.

    The file appears complete or not at all: it is written beside ``path`` under a temporary name and renamed.
    """
    path = os.fspath(path)
    if not path.endswith(('.nii', '.nii.gz')):
        raise ValueError(f'save_nifti: {path}: the name must end with .nii or .nii.gz (one-file NIfTI)')
    if labels.shape != reference.shape[:3]:
        raise ValueError(f'save_nifti: labels of shape {labels.shape} do not match the reference volume '
                         f'{reference.get_filename()} of shape {reference.shape[:3]}')
    if labels.dtype.kind not in 'biu':
        whole = labels.dtype.kind == 'f' and np.isfinite(labels).all() and np.array_equal(labels, np.round(labels))
        if not whole:  # 1.7 was written as 1, NaN failed on an int conversion
            raise ValueError(f'save_nifti: {path}: labels must be whole numbers (class indices); got {labels.dtype} '
                             f'values such as {labels[~np.isfinite(labels) | (labels != np.round(labels))][:3]}')
    if labels.size and labels.min() < 0:
        raise ValueError(f'save_nifti: {path}: labels must be >= 0; found {labels.min()}')
    top = int(labels.max()) if labels.size else 0
    dtype = label_dtype(top + 1)
    header = reference.header.copy()
    header.set_data_dtype(dtype)
    out = nib.Nifti1Image(labels.astype(dtype), reference.affine, header)
    out.header.set_slope_inter(1, 0)
    out.header['cal_min'], out.header['cal_max'] = 0, top  # the reference's intensity window would hide labels
    data = out.to_bytes()
    if path.endswith('.gz'):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        f.write(data)
    return path
