"""Overlay PNGs (image | ground truth | prediction) and the hook tools/test.py --show-dir adds."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.visualization import SegOverlayHook, save_overlay
from resbackbones.visualization.seg_overlay import display_image, overlay_name


def test_overlay_has_three_panels_and_colours_labels(tmp_path):
    image = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    gt, pred = np.zeros((32, 32), int), np.zeros((32, 32), int)
    gt[4:12, 4:12], pred[20:28, 20:28] = 1, 2
    path = save_overlay(str(tmp_path / 'o.png'), image, pred, gt, classes=('bg', 'a', 'b'))
    png = np.asarray(Image.open(path).convert('RGB')).astype(int)
    assert png.shape[1] > 2.5 * png.shape[0]  # three panels side by side
    colourful = np.abs(png - png.mean(2, keepdims=True)).sum(2) > 60
    assert colourful.any()  # labels are drawn in colour over the grey image
    no_labels = save_overlay(str(tmp_path / 'n.png'), image, np.zeros((32, 32), int), None)
    assert np.asarray(Image.open(no_labels).convert('RGB')).shape[1] < png.shape[1]  # two panels


def test_display_image_stretches_and_takes_first_channel():
    out = display_image(torch.stack([torch.arange(100.).view(10, 10), torch.zeros(10, 10)]))
    assert out.shape == (10, 10) and out.min() == 0 and out.max() == 1


@pytest.mark.parametrize('sample, name', [(dict(img_path='/d/case1.nii.gz', slice_idx=7), 'case1_slice007.png'),
                                          (dict(img_path='/d/img.tif'), 'img.png'), ({}, 'sample_0003.png')])
def test_overlay_names(sample, name):
    assert overlay_name(sample, 3) == name


def test_hook_writes_the_first_images_only(tmp_path):
    hook = SegOverlayHook(str(tmp_path / 'show'), max_images=3, every=2)
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={'classes': ('b', 'f')})),
                             logger=SimpleNamespace(info=lambda msg: None))
    hook.before_test_epoch(runner)
    for batch in range(4):
        inputs = [torch.rand(1, 16, 16) for _ in range(2)]
        outputs = [dict(pred_sem_seg=torch.zeros(16, 16, dtype=torch.long), gt_sem_seg=torch.ones(16, 16),
                        img_path='/d/vol.nii.gz', slice_idx=2 * batch + i) for i in range(2)]
        hook.after_test_iter(runner, batch, dict(inputs=inputs), outputs)
    hook.after_test_epoch(runner)
    assert sorted(os.listdir(tmp_path / 'show')) == ['vol_slice000.png', 'vol_slice002.png', 'vol_slice004.png']


def test_hook_arguments_are_checked():
    with pytest.raises(ValueError, match='max_images and every'):
        SegOverlayHook('x', max_images=0)


def test_hook_draws_a_volumes_busiest_slice(tmp_path, monkeypatch):
    """3D outputs (D, H, W) with (C, D, H, W) inputs: matplotlib refused the volume, and tools/test.py --show-dir
    lost the test's metrics to the traceback."""
    import resbackbones.visualization.seg_overlay as module
    drawn = []
    monkeypatch.setattr(module, 'save_overlay', lambda path, image, pred, gt, *_: drawn.append((path, image, pred, gt)))
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={'classes': ('b', 'f')})),
                             logger=SimpleNamespace(info=lambda msg: None))
    gt = torch.zeros(1, 6, 8, 8, dtype=torch.long)
    gt[0, 4, 2:6, 2:6], gt[0, 1, 3, 3] = 1, 1  # depth 4 holds the most foreground
    volume = torch.rand(2, 6, 8, 8)
    hook = SegOverlayHook(str(tmp_path / 'show'))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, dict(inputs=[volume]), [dict(pred_sem_seg=gt[0].clone(), gt_sem_seg=gt,
                                                                 img_path='/d/case.nii.gz')])
    (path, image, pred, truth), = drawn
    assert os.path.basename(path) == 'case_slice004.png' and image.shape == (8, 8)
    np.testing.assert_array_equal(image, display_image(volume[:, 4]))
    assert truth.shape == pred.shape == (8, 8) and truth.sum() == 16
