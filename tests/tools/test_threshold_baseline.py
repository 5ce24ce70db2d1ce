"""tools/analysis/threshold_baseline.py: cut points fitted on the training split, Dice on both splits."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from resbackbones.engine.cli import run_tool

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'threshold_baseline.py'
spec = importlib.util.spec_from_file_location('threshold_baseline', TOOL)
baseline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(baseline)


def write_case(tmp_path: Path, noise: float) -> Path:
    """A 3-class volume whose classes are intensity bands (plus noise); split in halves along x."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(16, 12, 10)).astype(np.uint8)
    image = (labels * 100.0 + rng.normal(0, noise, labels.shape)).astype(np.float32)
    for name, data in (('t1.nii.gz', image), ('seg.nii.gz', labels)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / name))
    config = tmp_path / 'cfg.py'
    config.write_text(f"""
dataset = dict(type='NiftiVolumeDataset', data_root='{tmp_path}', classes=('bg', 'a', 'b'), split_axis=0,
               cases=[dict(images='t1.nii.gz', seg='seg.nii.gz')], normalize=dict(mode='minmax'))
train_dataloader = dict(dataset=dict(dataset, split='train'))
test_dataloader = dict(dataset=dict(dataset, split='val'))
""")
    return config


@pytest.mark.parametrize('noise, low, high', [(0.0, 1.0, 1.0), (60.0, 0.4, 0.95)])
def test_bands_are_found_and_scored_on_both_splits(tmp_path, noise, low, high):
    result = baseline.threshold_baseline(str(write_case(tmp_path, noise)), levels=50)
    assert len(result['cuts']) == 2 and result['cuts'][0] < result['cuts'][1]
    for split in ('train_dice', 'test_dice'):
        assert all(low <= d <= high for d in result[split]), result


def test_exhaustive_search_matches_brute_force():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 500)
    intensity = labels + rng.normal(0, 0.7, 500)
    cuts = baseline.best_cuts(intensity, labels, 3, 12)
    grid = np.unique(np.percentile(intensity[labels > 0], np.linspace(0.5, 99.5, 12)))
    brute = max((np.mean(baseline.mean_dice(baseline.predict(intensity, (a, b)), labels, 3)), (a, b))
                for i, a in enumerate(grid) for b in grid[i + 1:])
    assert np.isclose(np.mean(baseline.mean_dice(baseline.predict(intensity, cuts), labels, 3)), brute[0])


def test_a_bad_config_is_one_line(tmp_path, capsys):
    config = tmp_path / 'cfg.py'
    config.write_text("train_dataloader = dict(dataset=dict(type='NiftiVolumeDataset', classes=('bg',)))\n")
    assert run_tool(baseline.main, [str(config)], prog='threshold_baseline.py') == 2
    assert 'at least 2 classes' in capsys.readouterr().err


def test_a_config_without_a_test_loader_is_one_line(tmp_path, capsys):
    config = tmp_path / 'cfg.py'
    config.write_text("train_dataloader = dict(dataset=dict(type='NiftiVolumeDataset', classes=('bg', 'fg')))\n"
                      "test_dataloader = None\n")
    assert run_tool(baseline.main, [str(config)], prog='threshold_baseline.py') == 2
    assert 'test_dataloader must be a dict with a dataset; got None' in capsys.readouterr().err


def test_an_image_folder_config_behind_a_cache(tmp_path):
    """The nuclei config's CachedDataset hid the classes ('must name at least 2 classes'), and an image folder read
    with an empty pipeline loaded nothing (a bare KeyError 'img')."""
    from PIL import Image
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for i in range(2):
            mask = (rng.random((24, 24)) < 0.3).astype(np.uint8)
            for folder, data in (('images', (mask * 180 + 20).astype(np.uint8)), ('masks', mask)):
                (tmp_path / split / folder).mkdir(parents=True, exist_ok=True)
                Image.fromarray(data).save(tmp_path / split / folder / f'{i}.png')
    config = tmp_path / 'cfg.py'
    config.write_text(f"""
load = [dict(type='LoadImageAndMask', channels=1), dict(type='NormalizeIntensity', mode='minmax')]
dataset = dict(type='SegFolderDataset', classes=('bg', 'fg'))
train_dataloader = dict(dataset=dict(type='CachedDataset', pipeline=[dict(type='RandomPatch', size=16)],
                                     dataset=dict(dataset, data_root='{tmp_path}/train', pipeline=load)))
test_dataloader = dict(dataset=dict(dataset, data_root='{tmp_path}/val', pipeline=load + [dict(type='PackSegInputs')]))
""")
    result = baseline.threshold_baseline(str(config), levels=20)
    assert result['classes'] == ['fg'] and result['train_dice'] == [1.0] and result['test_dice'] == [1.0]


def test_an_ignore_index_of_minus_one_is_not_counted_as_background():
    labels = np.array([0, 0, 1, 1, -1, -1])
    pred = np.array([0, 0, 1, 1, 1, 1])  # the ignored pixels predicted foreground: no penalty
    assert baseline.mean_dice(pred, labels, 2) == [1.0]


def test_a_training_split_without_foreground_is_named(tmp_path):
    # np.percentile of no voxels: a bare IndexError and a traceback
    config = write_case(tmp_path, 0.0)
    nib.save(nib.Nifti1Image(np.zeros((16, 12, 10), np.uint8), np.eye(4)), str(tmp_path / 'seg.nii.gz'))
    with pytest.raises(ValueError, match=r'no foreground voxels \(labels 1..2\) in the training split'):
        baseline.threshold_baseline(str(config), levels=10)
