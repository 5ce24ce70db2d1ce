import math

import numpy as np
import pytest
import torch

from resbackbones.evaluation import SegMetric, hd95
from resbackbones.registry import METRICS


def square(size=32, top=8, left=8, side=10):
    mask = np.zeros((size, size), dtype=np.int64)
    mask[top:top + side, left:left + side] = 1
    return mask


def run(metric, pairs):
    metric.process({}, [dict(pred_sem_seg=torch.as_tensor(p), gt_sem_seg=torch.as_tensor(g)) for p, g in pairs])
    return metric.compute_metrics(metric.results)


def test_dice_and_iou_by_hand():
    gt = square()
    pred = square(left=13)  # half overlap: 50 of 100 pixels
    out = run(SegMetric(classes=('bg', 'fg')), [(pred, gt)])
    assert out['dice_fg'] == pytest.approx(0.5)
    assert out['iou_fg'] == pytest.approx(50 / 150)
    assert out['mDice'] == pytest.approx(0.5)  # foreground classes only


def test_mean_over_all_includes_background():
    gt, pred = square(), square(left=13)
    out = run(SegMetric(classes=('bg', 'fg'), mean_over='all'), [(pred, gt)])
    assert out['mDice'] == pytest.approx((out['dice_bg'] + out['dice_fg']) / 2)


def test_dataset_level_counts_not_per_image_mean():
    empty = np.zeros((32, 32), dtype=np.int64)
    out = run(SegMetric(classes=('bg', 'fg')), [(square(), square()), (empty, empty)])
    assert out['dice_fg'] == pytest.approx(1.0)  # the all-background image is valid and does not lower Dice


def test_ignored_pixels_are_left_out():
    gt, pred = square(), square()
    pred[0, 0] = 1  # a false positive ...
    gt[0, 0] = 255  # ... on an ignored pixel
    assert run(SegMetric(classes=('bg', 'fg')), [(pred, gt)])['dice_fg'] == pytest.approx(1.0)


@pytest.mark.parametrize('shift', [1, 3, 5])
def test_hd95_of_single_points(shift):
    gt, pred = np.zeros((16, 16), bool), np.zeros((16, 16), bool)
    gt[5, 5], pred[5, 5 + shift] = True, True
    assert hd95(pred, gt) == pytest.approx(shift)
    assert hd95(pred, gt, spacing=(1.0, 2.0)) == pytest.approx(2 * shift)
    assert hd95(gt, gt) == 0


def brute_force_hd95(pred, gt):
    from scipy import ndimage
    a = np.argwhere(pred ^ ndimage.binary_erosion(pred))
    b = np.argwhere(gt ^ ndimage.binary_erosion(gt))
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    return np.percentile(np.concatenate([d.min(1), d.min(0)]), 95)


@pytest.mark.parametrize('seed', [0, 1])
def test_hd95_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    pred, gt = rng.random((24, 24)) > 0.7, rng.random((24, 24)) > 0.6
    assert hd95(pred, gt) == pytest.approx(brute_force_hd95(pred, gt))


def test_hd95_undefined_when_one_is_empty():
    assert math.isnan(hd95(np.zeros((8, 8), bool), square(8, 2, 2, 3).astype(bool)))


def test_metric_reports_hd95_and_uses_dataset_classes():
    metric = METRICS.build(dict(type='SegMetric', hd95=True))
    metric.dataset_meta = dict(classes=('background', 'nucleus'))
    pred, gt = square(left=11), square()
    out = run(metric, [(pred, gt)])
    assert out['hd95_nucleus'] == pytest.approx(hd95(pred == 1, gt == 1))
    assert out['hd95_nucleus'] > 0 and out['mHD95'] == out['hd95_nucleus']


@pytest.mark.parametrize('pred, gt, message', [
    (np.zeros((4, 4)), np.zeros((5, 5)), 'differ'),
    (np.zeros((4, 4)), np.full((4, 4), 7), r'labels must be in \[0, 2\)'),
    # gt 1 predicted as -1 was counted as gt 0 predicted 1: foreground Dice stayed 1.0
    (np.full((4, 4), -1), np.ones((4, 4)), r'labels must be in \[0, 2\).*pred -1\.\.-1'),
])
def test_bad_predictions_name_the_sample(pred, gt, message):
    metric = SegMetric(classes=('bg', 'fg'))
    sample = dict(pred_sem_seg=torch.as_tensor(pred, dtype=torch.long), gt_sem_seg=torch.as_tensor(gt),
                  img_path='case7.png')
    with pytest.raises(ValueError, match=f'case7.png.*{message}'):
        metric.process({}, [sample])


def test_classes_must_be_known():
    with pytest.raises(ValueError, match='class names unknown'):
        run(SegMetric(), [(square(), square())])


def test_volumes_give_dice_and_hd95_in_mm_from_their_spacing():
    """A cube and the same cube shifted one voxel along depth: at 3 mm slices the surface moves 3 mm."""
    gt = torch.zeros(8, 10, 10, dtype=torch.long)
    gt[2:6, 3:7, 3:7] = 1
    pred = torch.roll(gt, 1, dims=0)
    metric = SegMetric(classes=('bg', 'fg'), hd95=True)
    metric.process(None, [dict(pred_sem_seg=pred, gt_sem_seg=gt, spacing=np.array([3.0, 0.5, 0.5]))])
    scores = metric.compute_metrics(metric.results)
    assert scores['dice_fg'] == pytest.approx(2 * 48 / 128)
    assert scores['hd95_fg'] == pytest.approx(3.0)


@pytest.mark.parametrize('grid, axis', [((1, 12, 10), 0), ((6, 1, 10), 1), ((6, 12, 1), 2)])
def test_hd95_of_a_volume_with_a_size_one_axis(grid, axis):
    """A one-voxel-thick volume (e.g. a single-slice NIfTI): squeezing the label maps dropped that axis while the
    sample's spacing still counted three, and scipy raised."""
    rng = np.random.default_rng(0)
    gt = torch.from_numpy(rng.random(grid) > 0.6).long()
    pred = torch.roll(gt, shifts=1, dims=(axis + 1) % 3)
    spacing = (2.0, 3.0, 0.5)
    metric = SegMetric(classes=('bg', 'fg'), hd95=True)
    metric.process(None, [dict(pred_sem_seg=pred, gt_sem_seg=gt[None], spacing=np.array(spacing))])
    flat = [s for i, s in enumerate(spacing) if i != axis]
    expected = hd95(pred.numpy().squeeze(axis) == 1, gt.numpy().squeeze(axis) == 1, flat)
    assert metric.compute_metrics(metric.results)['hd95_fg'] == pytest.approx(expected) and expected > 0


def test_save_best_auto_picks_the_mean_dice():
    # the first key was 'dice_<background>': mmengine's save_best='auto' could infer no rule for it and stopped
    # training at the first validation (and would have kept the checkpoint of the best background Dice)
    from mmengine.hooks import CheckpointHook
    keys = list(run(SegMetric(classes=('background', 'nucleus'), hd95=True), [(square(), square())]))
    assert keys[:3] == ['mDice', 'mIoU', 'mHD95']
    hook = CheckpointHook(save_best='auto')
    hook._init_rule(hook.rules, [f'seg/{keys[0]}'])
    assert hook.rules == ['greater']
