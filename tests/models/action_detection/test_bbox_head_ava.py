"""BBoxHeadAVA: pooling, the positives-only (focal) BCE, logged recall/precision, and boxes mapped back."""
import math

import numpy as np
import pytest
import torch

from resbackbones.models.action_detection import BBoxHeadAVA


def _head(**kwargs) -> BBoxHeadAVA:
    torch.manual_seed(0)
    return BBoxHeadAVA(**{'background_class': True, 'in_channels': 4, 'num_classes': 4, 'topk': (1, 2), **kwargs})


@pytest.mark.parametrize('temporal, spatial', [('avg', 'max'), ('max', 'avg')])
def test_forward_pools_time_then_space_into_one_linear(temporal, spatial):
    head = _head(temporal_pool_type=temporal, spatial_pool_type=spatial)
    x = torch.randn(3, 4, 2, 5, 5)
    pooled = x.mean(2) if temporal == 'avg' else x.amax(2)
    pooled = pooled.amax((2, 3)) if spatial == 'max' else pooled.mean((2, 3))
    assert torch.allclose(head(x), head.fc_cls(pooled), atol=1e-6)


@pytest.mark.parametrize('alpha, gamma', [(1.0, 0.0), (3.0, 1.0)])
def test_loss_is_focal_bce_on_positive_rois_without_class_0(alpha, gamma):
    head = _head(focal_alpha=alpha, focal_gamma=gamma)
    logits = torch.tensor([[9., 0.5, -1., 2.], [9., 0., 0., 0.], [-9., 1., 1., -1.]])
    labels = torch.tensor([[0., 1., 0., 1.], [0., 0., 0., 0.], [0., 0., 1., 0.]])  # row 1: a negative RoI
    expected = []
    for row in (0, 2):
        for c in (1, 2, 3):
            p, y = 1 / (1 + math.exp(-float(logits[row, c]))), float(labels[row, c])
            bce = -(y * math.log(p) + (1 - y) * math.log(1 - p))
            expected.append(alpha * (1 - math.exp(-bce)) ** gamma * bce)
    assert float(head.loss(logits, labels)['loss_action_cls']) == pytest.approx(np.mean(expected), rel=1e-6)


def test_logged_recall_and_precision():
    out = _head().loss(torch.tensor([[0., 3., 2., -3.], [0., -3., 1., 2.]]),
                       torch.tensor([[0., 1., 0., 1.], [0., 0., 1., 1.]]))
    # at 0.5: row 0 predicts {1, 2} (truth {1, 3}), row 1 {2, 3} (truth {2, 3})
    assert float(out['recall@thr=0.5']) == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert float(out['prec@thr=0.5']) == pytest.approx((1 / 2 + 2 / 2) / 2, rel=1e-5)
    # top-1: row 0 -> 1 (hit), row 1 -> 3 (hit)
    assert float(out['recall@top1']) == pytest.approx(0.5) and float(out['prec@top1']) == pytest.approx(1, rel=1e-5)


def test_batch_without_labelled_roi_gives_zero_loss_that_backpropagates():
    logits = torch.randn(2, 4, requires_grad=True)
    loss = _head().loss(logits, torch.zeros(2, 4))['loss_action_cls']
    loss.backward()
    assert float(loss.detach()) == 0 and logits.grad is not None


@pytest.mark.parametrize('flip', [False, True])
def test_predict_maps_boxes_back_to_the_original_frame(flip):
    head = _head()
    boxes = torch.tensor([[10., 20., 50., 60.]])
    sample = dict(img_shape=(100, 200), flip=flip, crop_quadruple=np.array([0.1, 0.2, 0.5, 0.4], np.float32))
    out = head.predict(torch.tensor([[0., 0., 0., 0.]]), boxes, sample)
    x1, x2 = (200 - 1 - 50, 200 - 1 - 10) if flip else (10, 50)  # mmaction2 undoes a flip with width - 1 - x
    expected = [x1 / 200 * 0.5 + 0.1, 20 / 100 * 0.4 + 0.2, x2 / 200 * 0.5 + 0.1, 60 / 100 * 0.4 + 0.2]
    assert out['bboxes'][0].tolist() == pytest.approx(expected, rel=1e-6)
    assert out['scores'].tolist() == [[0.5] * 4]
    assert boxes.tolist() == [[10., 20., 50., 60.]]  # the proposals are not changed in place


@pytest.mark.parametrize('kwargs, message', [(dict(temporal_pool_type='sum'), 'temporal_pool_type'),
                                             (dict(topk=(4,)), 'topk must be integers in 1..num_classes-1=3')])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _head(**kwargs)


def test_action_0_is_refused_where_it_is_the_placeholder_and_trained_where_it_is_not():
    logits, labels = torch.zeros(1, 4), torch.tensor([[1., 0., 0., 0.]])
    with pytest.raises(ValueError, match='action 0, the placeholder class of background_class=True'):
        _head().loss(logits, labels)
    loss = _head(background_class=False, multilabel=False).loss(logits, labels)['loss_action_cls']
    assert float(loss) == pytest.approx(math.log(4))  # softmax over 4 equal logits, class 0 the target
