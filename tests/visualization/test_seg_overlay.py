"""Overlay PNGs (image | ground truth | prediction) and the hook tools/test.py --show-dir adds."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.visualization import SegOverlayHook, save_overlay
from resbackbones.visualization.sample_order import SampleOrder
from resbackbones.visualization.seg_overlay import display_image, label_colours, overlay_stem


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


def names_of(samples: list[dict], skip: int = 0) -> list:
    """The overlay names of ``samples`` as one batch of a one-process test epoch, after ``skip`` samples."""
    order = SampleOrder()
    order.seen = skip
    stems, tags = zip(*map(overlay_stem, samples))
    return [None if place is None else f'{place[1]}.png' for place in order.batch(stems, tags)]


@pytest.mark.parametrize('sample, name', [(dict(img_path='/d/case1.nii.gz', slice_idx=7), 'case1_slice007.png'),
                                          (dict(img_path='/d/img.tif'), 'img.png'), ({}, 'sample_0003.png')])
def test_overlay_names(sample, name):
    assert names_of([sample], skip=3) == [name]


def test_a_name_written_before_gets_the_case_or_the_index():
    samples = [dict(img_path=f'/d/sub-0{case}/t1.nii.gz', slice_idx=5, case_idx=case) for case in (1, 2, 2)]
    names = names_of(samples + [dict(img_path='/e/a.png'), dict(img_path='/f/a.png')])
    assert names == ['t1_slice005.png', 't1_slice005_case2.png', 't1_slice005_case2_2.png', 'a.png', 'a_0004.png']


def test_ignored_pixels_stay_uncoloured_and_classes_beyond_ten_get_colours_of_their_own(tmp_path):
    image, gt = np.full((16, 16), 0.5), np.full((16, 16), -1)  # NIfTI labels ignore -1: painted as class 0 before
    path = save_overlay(str(tmp_path / 'o.png'), image, np.zeros((16, 16), int), gt, ignore_index=-1)
    png = np.asarray(Image.open(path).convert('RGB')).astype(int)
    assert not (np.abs(png - png.mean(2, keepdims=True)).sum(2) > 60).any()
    colours = label_colours(12)
    assert len({tuple(c) for c in colours}) == 12  # tab10 repeated: class 11 was class 1's colour


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


def test_cases_of_one_file_name_keep_their_overlays_apart(tmp_path):
    # two cases' t1.nii.gz wrote t1_sliceNNN.png over each other, and the log counted six overlays for three files
    hook = SegOverlayHook(str(tmp_path / 'show'))
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={'classes': ('b', 'f')})),
                             logger=SimpleNamespace(info=lambda msg: None))
    hook.before_test_epoch(runner)
    outputs = [dict(pred_sem_seg=torch.zeros(8, 8, dtype=torch.long), img_path=f'/d/sub-{case}/t1.nii.gz',
                    case_idx=case, slice_idx=index) for case in (0, 1) for index in range(3)]
    hook.after_test_iter(runner, 0, dict(inputs=[torch.rand(1, 8, 8)] * 6), outputs)
    assert len(os.listdir(tmp_path / 'show')) == hook.saved == 6


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


@pytest.mark.parametrize('suffix, expected', [('.jpg', 'JPEG'), ('.png', 'PNG')])
def test_overlays_are_written_in_the_format_their_name_says(tmp_path, suffix, expected):
    image, labels = np.random.default_rng(0).random((20, 30)), np.random.default_rng(1).integers(0, 3, (20, 30))
    path = save_overlay(str(tmp_path / f'o{suffix}'), image, labels)  # .jpg held PNG bytes
    assert Image.open(path).format == expected


def test_an_overlay_name_matplotlib_cannot_write_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r'o\.txt: give a picture file name ending in one of .*\.png'):
        save_overlay(str(tmp_path / 'o.txt'), np.zeros((4, 4)), np.zeros((4, 4), int))
    assert not list(tmp_path.iterdir())
