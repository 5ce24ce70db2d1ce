"""tools/demos/segment_volume.py scores against the label file on its own grid, also with target_spacing."""
from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np

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
