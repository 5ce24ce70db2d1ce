"""The U-Net configs end to end on tiny data written in the real formats: tools/train.py, tools/test.py
--show-dir and tools/demos/segment_volume.py, with a small encoder (base_channels=8) and a few iterations."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {'nuclei': REPO / 'configs/unet/unet_r34_nuclei.py', 'mni': REPO / 'configs/unet/unet_r34_mni-tissue.py'}


def tool(relative: str):
    spec = importlib.util.spec_from_file_location(Path(relative).stem + '_tool', REPO / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def disks(size=96, seed=0):
    """A 16-bit image of bright disks and their instance label image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros((size, size), np.uint16)
    for k in range(1, 9):
        cy, cx, r = rng.integers(8, size - 8, 2).tolist() + [int(rng.integers(4, 8))]
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    image = (300 + 2000 * (labels > 0) + rng.normal(0, 150, labels.shape)).clip(0, 65535).astype(np.uint16)
    return image, labels


def nuclei_data(root: Path) -> dict:
    for split, seed in (('train', 0), ('val', 1)):
        image, labels = disks(seed=seed)
        for kind, array in (('images', image), ('masks', labels)):
            (root / split / kind).mkdir(parents=True)
            Image.fromarray(array).save(root / split / kind / 'nuclei.tif')
    return {'train_dataloader.dataset.dataset.data_root': f'{root}/train',  # the dataset inside CachedDataset
            'val_dataloader.dataset.data_root': f'{root}/val', 'test_dataloader.dataset.data_root': f'{root}/val'}


def mni_data(root: Path) -> dict:
    """A 40x48x10 'brain': white-matter core, grey-matter shell, 0-255 probability maps, uint8 T1."""
    root.mkdir(parents=True)
    zz, yy, xx = np.meshgrid(np.arange(40), np.arange(48), np.arange(10), indexing='ij')
    radius = np.sqrt(((zz - 20) / 16) ** 2 + ((yy - 24) / 20) ** 2)
    wm, gm = (radius < 0.55).astype(np.uint8) * 255, ((radius >= 0.55) & (radius < 0.9)).astype(np.uint8) * 230
    t1 = (40 + 0.5 * wm + 0.35 * gm).astype(np.uint8)
    for name, data in (('t1', t1), ('gm', gm), ('wm', wm)):
        nib.save(nib.Nifti1Image(data, np.diag([1.0, 1.0, 1.0, 1.0])), str(root / f'{name}.nii.gz'))
    return {f'{loader}.dataset.data_root': str(root) for loader in ('train_dataloader', 'val_dataloader',
                                                                   'test_dataloader')}


def tiny_config(name: str, tmp_path: Path, iters: int = 12) -> str:
    """The real config with a small encoder/decoder, small patches, a constant lr and the tiny data."""
    cfg = Config.fromfile(str(CONFIGS[name]))
    data = nuclei_data(tmp_path / 'nuclei') if name == 'nuclei' else mni_data(tmp_path / 'mni')
    cfg.merge_from_dict(data)
    cfg.model.backbone.base_channels = 8
    cfg.model.decoder.decoder_channels = (32, 16, 16, 8, 8)
    cfg.train_dataloader.batch_size = 4
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'RandomPatch':
            step['size'] = 32
    if cfg.model.get('test_cfg', {}).get('mode') == 'slide':  # windows of the training patch size, as the config
        cfg.model.test_cfg.patch_size = 32
    cfg.optim_wrapper.optimizer.lr = 3e-3
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.train_cfg.max_iters = iters
    cfg.default_hooks.logger.interval = 1
    path = tmp_path / f'tiny_{name}.py'
    cfg.dump(str(path))
    return str(path)


def test_configs_derive_widths_from_the_backbone():
    for path in CONFIGS.values():
        text = path.read_text()
        assert 'in_channels=1' in text and 'channels=(' not in text  # leaf: no channel lists
        cfg = Config.fromfile(str(path))
        assert cfg.model.backbone.out_indices == ('stem', 0, 1, 2, 3)
        assert 'feature_specs' not in cfg.model.decoder


@pytest.mark.parametrize('config', ['configs/unet/unet_r34_mni-tissue.py', 'configs/unet/unet_r34_mni-tissue-hemi.py',
                                    'configs/unet3d/unet3d_r18_mni-tissue.py'])
def test_group_norm_configs_infer_on_windows_of_the_training_patch(config):
    """GN statistics depend on the field of view, so GN models must see at test time what they saw in training."""
    cfg = Config.fromfile(str(REPO / config))
    assert cfg.model.backbone.norm_cfg.type == cfg.model.decoder.norm_cfg.type == 'GN'
    patch = next(step['size'] for step in cfg.train_dataloader.dataset.pipeline if 'Patch' in step['type'])
    dims = 3 if cfg.model.backbone.type == 'VolumeResNet' else 2
    expand = (lambda size: tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims)
    assert cfg.model.test_cfg.mode == 'slide' and expand(cfg.model.test_cfg.patch_size) == expand(patch)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['nuclei', 'mni'])
def test_train_then_test_with_overlays(name, tmp_path, capsys):
    config = tiny_config(name, tmp_path)
    work_dir = tmp_path / 'work'
    assert tool('tools/train.py').main([config, '--work-dir', str(work_dir)]) == 0
    log = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1].read_text().splitlines()
    losses = [json.loads(line)['loss'] for line in log if '"loss"' in line]
    assert len(losses) == 12
    assert np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3])  # it learns
    capsys.readouterr()
    checkpoint = str(work_dir / 'iter_12.pth')
    show = tmp_path / 'show'
    assert tool('tools/test.py').main([config, checkpoint, '--work-dir', str(work_dir), '--show-dir', str(show)]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= metrics['seg/mDice'] <= 1 and 'seg/mHD95' in metrics
    pngs = sorted(p.name for p in show.glob('*.png'))
    assert pngs and (pngs == ['nuclei.png'] if name == 'nuclei' else pngs[0] == 't1_slice000.png')
    if name == 'mni':
        out = tmp_path / 'pred.nii.gz'
        assert tool('tools/demos/segment_volume.py').main([config, checkpoint, str(out)]) == 0
        report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        saved, t1 = nib.load(str(out)), nib.load(str(tmp_path / 'mni' / 't1.nii.gz'))
        assert saved.shape == t1.shape and np.allclose(saved.affine, t1.affine)
        assert set(report['dice_volume']) == set(report['dice_held_out']) == {'background', 'grey_matter',
                                                                             'white_matter'}


@pytest.mark.slow
def test_benchmark_runs_with_smps_weights_and_checks_the_logits_first(capsys, monkeypatch):
    """The two models had different random weights and were never compared: a faster wrong model would have
    counted."""
    bench = tool('tools/benchmark_unet.py')
    argv = ['--size', '64', '--image', '80', '--batch', '2', '--repeats', '1']
    result = bench.main(argv)
    assert result['params']['ours'] == result['params']['smp']  # same architecture as smp's Unet('resnet34')
    assert result['output_gap'] < 1e-5 and result['ratio_infer'] > 0 and result['ratio_train'] > 0
    assert 'ratio ours/smp' in capsys.readouterr().out
    monkeypatch.setattr(bench, 'share_weights', lambda ours, reference: None)  # two random inits
    with pytest.raises(SystemExit, match='ours and smp give logits .* apart'):
        bench.main(argv)


def tiny_3d_config(tmp_path: Path, iters: int = 10) -> str:
    """configs/unet3d/unet3d_r18_mni-tissue.py with a tiny encoder and patches on the tiny 'brain'."""
    cfg = Config.fromfile(str(REPO / 'configs/unet3d/unet3d_r18_mni-tissue.py'))
    cfg.merge_from_dict(mni_data(tmp_path / 'mni'))
    cfg.model.backbone.update(base_channels=8, num_stages=3, out_indices=('stem', 0, 1, 2))
    cfg.model.decoder.decoder_channels = (16, 16, 8, 8)
    cfg.model.test_cfg.patch_size = (16, 16, 32)
    cfg.train_dataloader.dataset.pipeline[0]['size'] = (8, 16, 16)
    cfg.optim_wrapper.optimizer.lr = 3e-3
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.train_cfg.max_iters = iters
    cfg.default_hooks.logger.interval = 1
    path = tmp_path / 'tiny_unet3d.py'
    cfg.dump(str(path))
    return str(path)


def test_3d_and_hemisphere_configs_share_the_split():
    three = Config.fromfile(str(REPO / 'configs/unet3d/unet3d_r18_mni-tissue.py'))
    two = Config.fromfile(str(REPO / 'configs/unet/unet_r34_mni-tissue-hemi.py'))
    assert three.model.backbone.type == 'VolumeResNet' and 'feature_specs' not in three.model.decoder
    for cfg in (three, two):
        assert cfg.train_dataloader.dataset.split_axis == cfg.test_dataloader.dataset.split_axis == 0
        assert (cfg.train_dataloader.dataset.split, cfg.test_dataloader.dataset.split) == ('train', 'val')
        assert cfg.test_dataloader.dataset.cases == three.test_dataloader.dataset.cases


@pytest.mark.slow
def test_3d_train_test_and_segment_volume(tmp_path, capsys):
    config = tiny_3d_config(tmp_path)
    work_dir = tmp_path / 'work'
    assert tool('tools/train.py').main([config, '--work-dir', str(work_dir)]) == 0
    log = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1].read_text().splitlines()
    losses = [json.loads(line)['loss'] for line in log if '"loss"' in line]
    assert len(losses) == 10 and np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3])  # it learns
    capsys.readouterr()
    checkpoint = str(work_dir / 'iter_10.pth')
    assert tool('tools/test.py').main([config, checkpoint, '--work-dir', str(work_dir)]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= metrics['seg/mDice'] <= 1 and 'seg/hd95_white_matter' in metrics
    out = tmp_path / 'pred3d.nii.gz'
    assert tool('tools/demos/segment_volume.py').main([config, checkpoint, str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    saved, t1 = nib.load(str(out)), nib.load(str(tmp_path / 'mni' / 't1.nii.gz'))
    assert saved.shape == t1.shape and np.allclose(saved.affine, t1.affine)
    assert set(report['dice_held_out']) == {'background', 'grey_matter', 'white_matter'}


@pytest.mark.slow
def test_benchmark_3d_against_monai_runs_on_a_tiny_volume(capsys):
    pytest.importorskip('monai')
    result = tool('tools/benchmark_unet3d.py').main(['--volume', '12', '20', '18', '--patch', '8', '16', '16',
                                                     '--base', '4', '--repeats', '1', '--threads', '1'])
    assert result['ratio_speed'] > 0 and result['peak_mib']['ours'] > 0 and result['peak_mib']['monai'] > 0
    assert result['max_abs_diff'] < 1.0  # the same network blended over nearly the same windows
    assert 'ratio ours/MONAI' in capsys.readouterr().out


@pytest.mark.parametrize('config', ['configs/unet/unet_r34_mni-tissue.py', 'configs/unet3d/unet3d_r18_mni-tissue.py'])
def test_mni_configs_mirror_left_and_right_not_front_and_back(config, tmp_path):
    """The flip of the training pipeline, made certain (p=1), on an RAS volume bright only at the left: the bright
    voxels must move to the right (a brain mirrored left-right is still a brain; front-to-back it is not)."""
    from resbackbones.registry import DATASETS, TRANSFORMS
    shape = (16, 12, 8)  # x (left to right), y (back to front), z (feet to head)
    t1 = np.full(shape, 40, np.uint8)
    t1[:4] = 200
    prob = np.zeros(shape, np.uint8)
    for name, data in (('t1', t1), ('gm', prob), ('wm', prob)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / f'{name}.nii.gz'))
    cfg = Config.fromfile(str(REPO / config))
    [flip] = [step for step in cfg.train_dataloader.dataset.pipeline if 'Flip' in str(step)]
    flip = Config(dict(f=flip)).f
    if flip['type'] == 'SegAlbu':
        flip['transforms'] = [dict(t, p=1.0) for t in flip['transforms']]
    else:
        flip['prob'] = 1.0
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(tmp_path), split='all',
                                  split_axis=None, pipeline=[]))
    sample = dataset[0]
    img = np.asarray(sample['img'], np.float32)
    bright = img > img.mean()
    x_axes = [a for a in range(img.ndim) if img.shape[a] == 16 and bright.any(axis=tuple(
        b for b in range(img.ndim) if b != a))[:4].all() and not bright.any(axis=tuple(
            b for b in range(img.ndim) if b != a))[4:].any()]
    assert len(x_axes) == 1, img.shape  # the left-right axis of the sample, found from the pixels
    flipped = np.asarray(TRANSFORMS.build(flip)(dict(sample, img=img.copy()))['img'], np.float32)
    assert np.array_equal(flipped, np.flip(img, x_axes[0]))
