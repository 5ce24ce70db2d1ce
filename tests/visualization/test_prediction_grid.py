"""The test-time grid of images titled with predicted and true class, for image and video samples."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.visualization import PredictionGridHook
from resbackbones.visualization.prediction_grid import _to_hwc

FRAMES = torch.arange(8 * 3 * 6 * 5, dtype=torch.float).view(8, 3, 6, 5)  # 8 frames of a 2D recognizer's sample


@pytest.mark.parametrize('sample, expected', [
    (torch.rand(3, 6, 5), lambda x: x),  # an image (C, H, W)
    (FRAMES, lambda x: x[4]),  # (views * T, C, H, W): the middle frame
    (torch.rand(2, 3, 4, 6, 5), lambda x: x[0, :, 2]),  # (views, C, T, H, W): the first view's middle frame
])
def test_a_sample_becomes_one_picture(sample, expected):
    picture = _to_hwc(sample)
    assert picture.shape == (6, 5, 3) and picture.dtype == np.uint8
    np.testing.assert_array_equal(picture, _to_hwc(expected(sample)))


def test_heatmap_channels_are_averaged_to_grey():
    assert _to_hwc(torch.rand(1, 17, 4, 6, 5)).shape == (6, 5)  # PoseC3D's 17 joint heatmaps


def test_video_samples_give_a_grid(tmp_path):
    # (clips * T, C, H, W) inputs reached matplotlib whole: the test stopped after it had run, its metrics lost
    hook = PredictionGridHook(str(tmp_path))
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={})),
                             logger=SimpleNamespace(info=lambda msg: None))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, dict(inputs=[FRAMES, FRAMES]), [dict(pred_label=1, gt_label=1),
                                                                     dict(pred_label=0, gt_label=1)])
    hook.after_test_epoch(runner)
    assert Image.open(tmp_path / 'predictions.png').size[0] > 100


def test_multi_hot_ground_truth_is_titled_by_its_classes(tmp_path):
    # a multi_class recognizer's gt_label was compared as a tensor: the test stopped after it had run
    hook = PredictionGridHook(str(tmp_path))
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={'classes': 'abcd'})),
                             logger=SimpleNamespace(info=lambda msg: None))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, dict(inputs=[FRAMES, FRAMES, FRAMES]), [
        dict(pred_label=2, gt_label=torch.tensor([1., 0., 1., 0.])), dict(pred_label=0, gt_label=torch.tensor([3])),
        dict(pred_label=1, gt_label=np.int64(1))])
    assert [sample[2] for sample in hook.samples] == [(0, 2), (3,), (1,)]
    hook.after_test_epoch(runner)
    assert (tmp_path / 'predictions.png').exists()
