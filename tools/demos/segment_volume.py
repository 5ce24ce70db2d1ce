"""Segment a NIfTI volume with a trained U-Net, 2D (slice by slice) or 3D, and save the labels on the original grid.

    python tools/demos/segment_volume.py CONFIG CHECKPOINT OUT.nii.gz [--case 0] [--batch-size 8]

The volume, its intensity normalisation (and resampling) come from the config's test dataset: NiftiSliceDataset
(2D model: every slice along its axis is predicted, held-out or not) or NiftiVolumeDataset (3D model: the whole
volume, with the model's test_cfg windows). The output has the input's affine and header; OUT may not be one of
the case's own files. When the case has labels, the Dice per class over the whole volume and over the held-out part
only (the held-out slices, the held-out half of a ``split_axis`` split, or the whole of a held-out case; null for a
case the ``val_cases`` split trains on) are printed as one line of json. The Dice compares the prediction, put back
on the file grid, with the labels as read from the files on that grid (not resampled, also with target_spacing).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Sequence

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.apis import predict_volume, predict_volume_3d, save_nifti  # noqa: E402
from resbackbones.deploy.loading import load_task_model  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402
from resbackbones.engine.config import load_config  # noqa: E402
from resbackbones.evaluation.seg_metric import confusion  # noqa: E402
from resbackbones.datasets.nifti import case_files, half_region  # noqa: E402
from resbackbones.registry import DATASETS  # noqa: E402

DATASET_TYPES = ('NiftiSliceDataset', 'NiftiVolumeDataset')


def dice_per_class(pred: np.ndarray, gt: np.ndarray, classes: Sequence[str],
                   ignore_index: int = 255) -> dict[str, float]:
    """Dice of each class over the given voxels, ignore_index left out (None, JSON's null, for a class absent
    from both: json.dumps wrote NaN, which JSON readers refuse)."""
    matrix = confusion(pred.ravel(), gt.ravel(), len(classes), ignore_index).astype(np.float64)
    inter, total = np.diag(matrix), matrix.sum(0) + matrix.sum(1)
    return {name: round(float(2 * i / t), 4) if t else None for name, i, t in zip(classes, inter, total)}


def held_out(dataset, shape: tuple[int, ...], case: int) -> tuple | None:
    """Index of the voxels of ``case`` the config's test split evaluates: a half along split_axis, the held-out
    slices, the whole volume of a held-out case (val_cases) or of any case when the split is 'all'; None for a
    case the split trains on."""
    if dataset.split == 'all':  # nothing is held out: the test split evaluates whole volumes
        return (slice(None),) * 3
    split_axis = dataset.split_axis
    if split_axis is not None:
        return half_region(shape, split_axis, 'val')
    if hasattr(dataset, 'holdout_every'):
        return (slice(None),) * dataset.axis + (np.arange(shape[dataset.axis]) % dataset.holdout_every == 0,)
    if dataset.val_cases and case not in dataset.val_cases:
        return None
    return (slice(None),) * 3


def predict_case(model, dataset, case: int, batch_size: int) -> tuple[np.ndarray, object]:
    """(labels on the file grid, the reference NIfTI image)."""
    if dataset.__class__.__name__ == 'NiftiVolumeDataset':
        image, _, meta = dataset.volume(case)
        return dataset.to_file_grid(case, predict_volume_3d(model, image)), meta['reference']
    image, _, reference = dataset.volume(case)
    return predict_volume(model, image, dataset.axis, batch_size), reference


def ground_truth(data_cfg: dict, dataset, case: int) -> np.ndarray | None:
    """The case's labels (X, Y, Z) on its files' grid, or None. With target_spacing the dataset holds resampled
    labels, and restoring them would score against a round trip of the labels (a Dice too high where thin
    structures do not survive it), so the case is read again without resampling."""
    if dataset.__class__.__name__ != 'NiftiVolumeDataset':
        return dataset.volume(case)[1]
    if dataset.target_spacing is not None:
        # one case: the config's val_cases (indices of its full list) would be refused against it
        dataset = DATASETS.build(dict(data_cfg, target_spacing=None, cases=[dataset.cases[case]], val_cases=()))
        case = 0
    labels = dataset.volume(case)[1]
    return None if labels is None else np.moveaxis(labels, -3, dataset.depth_axis - 3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ToolParser(prog='segment_volume.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a config whose test dataset is a NiftiSliceDataset or NiftiVolumeDataset')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth)')
    parser.add_argument('out', help='output label volume (.nii or .nii.gz)')
    parser.add_argument('--case', type=int, default=0, help='which case of the dataset (default 0)')
    parser.add_argument('--batch-size', type=int, default=8, help='slices per forward pass (2D models)')
    args = parser.parse_args(argv)
    if args.batch_size < 1:  # else named as predict_volume's batch_size, beside an axis the user never gave
        parser.error(f'--batch-size must be >= 1; got {args.batch_size}')
    if not args.out.endswith(('.nii', '.nii.gz')):
        raise ValueError(f'OUT must end with .nii or .nii.gz; got {args.out}')
    cfg = load_config(args.config)
    data_cfg = dict(cfg.test_dataloader.dataset, split='all', pipeline=[])
    if data_cfg.get('type') not in DATASET_TYPES:
        raise ValueError(f"{args.config}: test_dataloader.dataset is {data_cfg.get('type')!r}; expected one of "
                         f"{list(DATASET_TYPES)}")
    split = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[], lazy_init=True))
    dataset = DATASETS.build(data_cfg)
    if not 0 <= args.case < len(dataset.cases):
        raise ValueError(f'--case {args.case}: the dataset has {len(dataset.cases)} case(s)')
    for index, case in enumerate(dataset.cases):  # any case's file: another case's image was replaced silently
        inputs = case_files(case, dataset.data_root)
        if any(os.path.abspath(args.out) == os.path.abspath(f) or (os.path.exists(args.out) and os.path.exists(f)
                                                                     and os.path.samefile(args.out, f)) for f in inputs):
            raise ValueError(f'OUT {args.out} is a file of case {index} ({inputs}); give another name')
    # every key and shape, or a ValueError naming the file (load_state_dict's RuntimeError was a traceback)
    model = load_task_model(cfg, check_checkpoint(args.checkpoint, 'CHECKPOINT'))
    labels = ground_truth(data_cfg, dataset, args.case)  # before the prediction: a bad label file stops early
    pred, reference = predict_case(model, dataset, args.case, args.batch_size)
    save_nifti(args.out, pred, reference)
    report = {'out': args.out, 'shape': list(pred.shape)}
    if labels is not None:
        take, ignore = held_out(split, pred.shape, args.case), dataset.ignore_index
        report['dice_volume'] = dice_per_class(pred, labels, dataset.classes, ignore)
        report['dice_held_out'] = None if take is None else dice_per_class(pred[take], labels[take],
                                                                            dataset.classes, ignore)
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='segment_volume.py'))
