"""tools/analysis/norm_gap.py: Dice on training batches with batch statistics against running statistics."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from resbackbones.engine.cli import run_tool
from resbackbones.registry import DATASETS, MODELS

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'norm_gap.py'
spec = importlib.util.spec_from_file_location('norm_gap', TOOL)
norm_gap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(norm_gap)


def write_case(tmp_path: Path, norm: str) -> Path:
    """A 3-class 'brain' (core, shell, background) as NIfTI and a tiny 2D U-Net config on its slices."""
    zz, yy, xx = np.meshgrid(np.arange(24), np.arange(40), np.arange(40), indexing='ij')
    radius = np.sqrt(((yy - 20) / 16) ** 2 + ((xx - 20) / 16) ** 2)
    labels = np.where(radius < 0.5, 2, np.where(radius < 0.9, 1, 0)).astype(np.uint8)
    image = (labels * 80 + np.random.default_rng(0).normal(0, 20, labels.shape)).astype(np.float32)
    for name, data in (('t1.nii.gz', image), ('seg.nii.gz', labels)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / name))
    norm_cfg = "dict(type='GN', num_groups=4)" if norm == 'GN' else "dict(type='BN')"
    config = tmp_path / 'cfg.py'
    config.write_text(f"""
model = dict(type='UNet', num_classes=3, input_skip=True,
             backbone=dict(type='ResNet', depth=18, in_channels=1, base_channels=8, out_indices=('stem', 0, 1, 2, 3),
                           norm_eval=False, norm_cfg={norm_cfg}),
             decoder=dict(decoder_channels=(32, 16, 16, 8, 8), norm_cfg={norm_cfg}))
dataset = dict(type='NiftiSliceDataset', data_root='{tmp_path}', classes=('bg', 'shell', 'core'), axis=0,
               cases=[dict(images='t1.nii.gz', seg='seg.nii.gz')], normalize=dict(mode='minmax'))
train_dataloader = dict(batch_size=4, dataset=dict(dataset, split='train', pipeline=[
    dict(type='RandomPatch', size=32, fg_prob=0.9), dict(type='PackSegInputs')]))
""")
    return config


def save_checkpoint(config: Path, shift: float) -> Path:
    """The config's model with random weights; BN running means moved by ``shift`` away from any batch's."""
    from resbackbones.engine.config import load_config
    torch.manual_seed(0)
    model = MODELS.build(load_config(str(config)).model)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean += shift
    path = config.parent / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def test_shifted_running_statistics_open_a_gap_and_stay_untouched(tmp_path):
    config = write_case(tmp_path, 'BN')
    checkpoint = save_checkpoint(config, shift=3.0)
    result = norm_gap.norm_gap(str(config), str(checkpoint), batches=2)
    assert result['batch_norms'] > 0 and result['classes'] == ['shell', 'core']
    assert result['batch'] != result['eval']
    # the batch-statistics pass must not have moved the running statistics the eval pass reads
    from resbackbones.apis.inference import init_detector
    from resbackbones.engine.config import load_config
    cfg = load_config(str(config))
    model = init_detector(cfg, str(checkpoint))
    data = norm_gap.draw_batches(cfg, model, 2, seed=0)
    with torch.no_grad():
        direct = [model.logits(x).argmax(1) for x, _ in data]
    assert norm_gap.dice_per_class(direct, [y for _, y in data], 3) == result['eval']


def test_group_norm_scores_the_same_both_ways(tmp_path, capsys):
    config = write_case(tmp_path, 'GN')
    checkpoint = save_checkpoint(config, shift=0.0)
    assert norm_gap.main([str(config), str(checkpoint), '--batches', '2']) == 0
    out = capsys.readouterr().out
    assert '\n0 BatchNorm layers' in '\n' + out and 'gap (batch - eval): +0.0000' in out


def test_bad_arguments_are_one_line(tmp_path, capsys):
    config = str(write_case(tmp_path, 'BN'))
    with pytest.raises(SystemExit) as stop:
        norm_gap.main([config, str(tmp_path / 'model.pth'), '--batches', '0'])
    assert stop.value.code == 2 and '--batches must be >= 1' in capsys.readouterr().err
    assert run_tool(norm_gap.main, [config, str(tmp_path / 'missing.pth')], prog='norm_gap.py') == 2
    error = capsys.readouterr().err
    assert 'missing.pth' in error and len(error.strip().splitlines()) == 1


def test_an_ignore_index_of_minus_one_is_left_out_of_the_dice():
    # only labels >= K were left out: predicted foreground on -1 pixels counted as false positives (0.667, not 1)
    assert norm_gap.dice_per_class([torch.tensor([[1, 1, 0, 0]])], [torch.tensor([[1, -1, 0, 0]])], 2) == [1.0]


def test_batches_go_through_the_models_data_preprocessor(tmp_path):
    # a normalising preprocessor (mmseg's habit) was skipped: both Dice figures scored inputs the model never saw
    config = write_case(tmp_path, 'BN')
    config.write_text(config.read_text() + "model['data_preprocessor'] = dict(type='ImgDataPreprocessor', mean=[0.5], "
                                           "std=[0.25])\n")
    from resbackbones.apis.inference import init_detector
    from resbackbones.engine.config import load_config
    cfg = load_config(str(config))
    model = init_detector(cfg)
    raw = torch.stack([s['inputs'] for s in [DATASETS.build(cfg.train_dataloader.dataset)[0]]]).float()
    (inputs, _), = norm_gap.draw_batches(load_config(str(config)), model, 1, seed=0)
    assert inputs.shape[1:] == raw.shape[1:] and raw.min() >= 0 and inputs.min() < -1.0  # (x - 0.5) / 0.25
