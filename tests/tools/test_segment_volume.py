"""tools/demos/segment_volume.py scores against the label file on its own grid, also with target_spacing."""
from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import load_tool  # noqa: E402


def demo():
    return load_tool('demos/segment_volume')


def test_ground_truth_is_the_label_file_not_a_resampling_round_trip(tmp_path):
    shape = (20, 18, 15)
    x, y, z = np.meshgrid(*[np.arange(s) for s in shape], indexing='ij')
    labels = (((x - 10) ** 2 + (y - 9) ** 2 + (z - 7) ** 2) < 25).astype(np.uint8) + ((x % 3 == 0) & (y > 3))
    labels = np.minimum(labels, 2).astype(np.uint8)  # thin stripes: a coarse grid cannot hold them
    for name, data in (('img.nii.gz', labels.astype(np.float32)), ('seg.nii.gz', labels)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / name))
    module = demo()
    cfg = dict(type='NiftiVolumeDataset', data_root=str(tmp_path), classes=('bg', 'a', 'b'), split='all',
               cases=[dict(images='img.nii.gz', seg='seg.nii.gz')], target_spacing=(2.5, 2.5, 2.5), pipeline=[])
    dataset = module.DATASETS.build(cfg)
    truth = module.ground_truth(cfg, dataset, 0)
    np.testing.assert_array_equal(truth, labels)
    restored = dataset.to_file_grid(0, dataset.volume(0)[1])  # a prediction perfect on the resampled grid
    dice = module.dice_per_class(restored, truth, dataset.classes, dataset.ignore_index)
    assert dice['b'] < 0.9


def test_a_checkpoint_of_another_model_is_one_line(tmp_path, capsys):
    import torch
    from mmengine.config import Config

    from resbackbones.engine.cli import run_tool
    from tests.tools.test_unet_configs import REPO, mni_data
    cfg = Config.fromfile(str(REPO / 'configs/unet/unet_r34_mni-tissue.py'))
    cfg.merge_from_dict(mni_data(tmp_path / 'mni'))
    cfg.dump(str(tmp_path / 'seg.py'))
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(8, 1, 3, 3)}}, tmp_path / 'classifier.pth')
    status = run_tool(demo().main, [str(tmp_path / 'seg.py'), str(tmp_path / 'classifier.pth'),
                                    str(tmp_path / 'out.nii.gz')], prog='segment_volume.py')
    err = capsys.readouterr().err
    assert status == 2 and f'checkpoint {tmp_path / "classifier.pth"} does not match config' in err  # a traceback
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / 'out.nii.gz').exists()


def _two_cases(tmp_path):
    labels = np.zeros((8, 8, 6), np.uint8)
    labels[2:6, 2:6, 1:5] = 1
    for i in range(2):
        nib.save(nib.Nifti1Image(labels.astype(np.float32) + i, np.eye(4)), str(tmp_path / f'img{i}.nii.gz'))
        nib.save(nib.Nifti1Image(labels, np.eye(4)), str(tmp_path / f'seg{i}.nii.gz'))
    return dict(type='NiftiVolumeDataset', data_root=str(tmp_path), classes=('bg', 'a'), split='val', val_cases=[1],
                cases=[dict(images=f'img{i}.nii.gz', seg=f'seg{i}.nii.gz') for i in range(2)])


def test_out_may_not_be_a_file_of_the_case(tmp_path, capsys):
    """OUT naming the case's label file replaced the labels with the prediction, which then scored Dice 1.0."""
    from resbackbones.engine.cli import run_tool
    (tmp_path / 'seg.py').write_text(f'test_dataloader = dict(dataset={_two_cases(tmp_path)!r})\n')
    (tmp_path / 'model.pth').write_bytes(b'')
    before = (tmp_path / 'seg0.nii.gz').read_bytes()
    status = run_tool(demo().main, [str(tmp_path / 'seg.py'), str(tmp_path / 'model.pth'),
                                    str(tmp_path / 'seg0.nii.gz')], prog='segment_volume.py')
    assert status == 2 and 'is a file of case 0' in capsys.readouterr().err
    assert (tmp_path / 'seg0.nii.gz').read_bytes() == before
    # another case's image: it was replaced without a word
    other = (tmp_path / 'img1.nii.gz').read_bytes()
    status = run_tool(demo().main, [str(tmp_path / 'seg.py'), str(tmp_path / 'model.pth'),
                                    str(tmp_path / 'img1.nii.gz'), '--case', '0'], prog='segment_volume.py')
    assert status == 2 and 'is a file of case 1' in capsys.readouterr().err
    assert (tmp_path / 'img1.nii.gz').read_bytes() == other


def test_held_out_part_of_a_case_split(tmp_path):
    """With val_cases the held-out part is a held-out case whole, and nothing of a case the split trains on (the
    whole volume of a training case was reported as held out)."""
    module = demo()
    split = module.DATASETS.build(dict(_two_cases(tmp_path), pipeline=[], lazy_init=True))
    assert module.held_out(split, (8, 8, 6), 0) is None
    assert module.held_out(split, (8, 8, 6), 1) == (slice(None),) * 3
    # split='all' holds nothing out: the half along split_axis was reported as held out
    whole = module.DATASETS.build(dict(_two_cases(tmp_path), split='all', split_axis=0, pipeline=[], lazy_init=True))
    assert module.held_out(whole, (8, 8, 6), 0) == (slice(None),) * 3


def test_ground_truth_of_a_resampled_case_split(tmp_path):
    """target_spacing with val_cases: the case read again alone kept val_cases [1] and was refused ('there are
    1 cases') after the whole prediction had run."""
    module = demo()
    cfg = dict(_two_cases(tmp_path), split='all', target_spacing=(2.0, 2.0, 2.0), pipeline=[])
    truth = module.ground_truth(cfg, module.DATASETS.build(cfg), 1)
    np.testing.assert_array_equal(truth, nib.load(str(tmp_path / 'seg1.nii.gz')).get_fdata())
    dice = module.dice_per_class(np.zeros((2, 2, 2), np.uint8), np.zeros((2, 2, 2), np.uint8), ('bg', 'a'))
    assert dice == {'bg': 1.0, 'a': None}  # absent from both: null, not NaN


def test_a_batch_size_below_one_names_the_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # was predict_volume's message, with an axis never given
        demo().main([str(tmp_path / 'seg.py'), str(tmp_path / 'model.pth'), str(tmp_path / 'o.nii.gz'),
                     '--batch-size', '0'])
    assert stop.value.code == 2 and '--batch-size must be >= 1; got 0' in capsys.readouterr().err
