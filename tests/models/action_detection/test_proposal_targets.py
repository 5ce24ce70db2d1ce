"""Proposal assignment and sampling for AVA training, against mmdet's MaxIoUAssigner / RandomSampler rules."""
import pytest
import torch

from resbackbones.models.action_detection.proposal_targets import assign, check_rcnn_train_cfg, sample

GT = torch.tensor([[0., 0., 10., 10.], [20., 20., 40., 40.]])


def _box_with_iou(iou: float) -> list[float]:
    """A box inside GT[0] (same x range, shorter in y) whose IoU with it is ``iou``."""
    return [0., 0., 10., 10. * iou]


@pytest.mark.parametrize('iou, expected', [(0.95, 1), (0.9, 1), (0.89, 0)])
def test_threshold_is_inclusive_for_positives(iou, expected):
    settings = dict(check_rcnn_train_cfg(None)['assigner'], match_low_quality=False)
    assert assign(torch.tensor([_box_with_iou(iou)]), GT, settings).tolist() == [expected]


def test_low_quality_match_lets_each_gt_claim_its_best_proposals():
    # proposal 0 overlaps GT[0] at 0.5 (below the 0.9 threshold) but is its best: it becomes positive when
    # min_pos_iou allows it, and every proposal tied at that best IoU does too (gt_max_assign_all)
    proposals = torch.tensor([_box_with_iou(0.5), _box_with_iou(0.5), [20., 20., 40., 30.]])
    cfg = check_rcnn_train_cfg(dict(assigner=dict(pos_iou_thr=0.9, neg_iou_thr=0.9, min_pos_iou=0.4)))['assigner']
    assert assign(proposals, GT, cfg).tolist() == [1, 1, 2]
    cfg['gt_max_assign_all'] = False
    assert assign(proposals, GT, cfg).tolist() == [1, 0, 2]
    cfg['min_pos_iou'] = 0.9  # mmaction2's AVA setting: low-quality matches never pass
    assert assign(proposals, GT, cfg).tolist() == [0, 0, 0]


def test_negative_range_leaves_the_rest_ignored():
    cfg = dict(check_rcnn_train_cfg(dict(assigner=dict(neg_iou_thr=(0.1, 0.5))))['assigner'], match_low_quality=False)
    proposals = torch.tensor([[100., 100., 110., 110.], _box_with_iou(0.3), _box_with_iou(0.7)])
    assert assign(proposals, GT, cfg).tolist() == [-1, 0, -1]  # IoU 0 is below the range, 0.7 between ranges


def test_flat_boxes_overlap_zero_and_become_negatives():
    """A crop can squash a person box to zero width; with a flat ground truth too, torchvision's IoU was 0/0 = NaN,
    and the proposal was ignored where mmdet's bbox_overlaps (union at least 1e-6) makes it a negative."""
    gts = torch.tensor([[31., 5., 31., 20.], [2., 2., 10., 10.]])
    proposals = torch.tensor([[31., 6., 31., 22.], [2., 2., 10., 10.], [20., 20., 25., 25.]])
    assert assign(proposals, gts, check_rcnn_train_cfg(None)['assigner']).tolist() == [0, 2, 0]


def test_no_ground_truth_makes_every_proposal_negative():
    assert assign(torch.tensor([[0., 0., 5., 5.]]), torch.zeros(0, 4), check_rcnn_train_cfg(None)['assigner']) \
        .tolist() == [0]


def test_sample_puts_ground_truth_first_with_its_labels_and_zero_negatives():
    labels = torch.tensor([[0., 1., 0.], [0., 0., 1.]])
    proposals = torch.tensor([[0., 0., 10., 9.5], [50., 50., 60., 60.], [70., 70., 80., 80.]])
    torch.manual_seed(0)
    out = sample(proposals, GT, labels, check_rcnn_train_cfg(None))
    # positives: the two ground truths (added as proposals) and proposal 0 (IoU 0.95 with GT[0]); then negatives
    assert out.boxes[:3].tolist() == [GT[0].tolist(), GT[1].tolist(), proposals[0].tolist()]
    assert out.labels[:3].tolist() == [labels[0].tolist(), labels[1].tolist(), labels[0].tolist()]
    assert sorted(map(tuple, out.boxes[3:].tolist())) == sorted(map(tuple, proposals[1:].tolist()))
    assert out.labels[3:].sum() == 0


@pytest.mark.parametrize('num, fraction, neg_pos_ub, expected', [(4, 0.5, -1, (2, 2)), (3, 1.0, -1, (3, 0)),
                                                                 (10, 1.0, 0.4, (5, 2))])
def test_sample_sizes_follow_num_fraction_and_negative_bound(num, fraction, neg_pos_ub, expected):
    proposals = torch.cat([GT[0:1].repeat(5, 1) + torch.arange(5.)[:, None] * 0.01,
                           torch.tensor([[100., 100., 110., 110.]]).repeat(6, 1) + torch.arange(6.)[:, None]])
    cfg = check_rcnn_train_cfg(dict(sampler=dict(num=num, pos_fraction=fraction, neg_pos_ub=neg_pos_ub,
                                                  add_gt_as_proposals=False)))
    out = sample(proposals, GT[:1], torch.tensor([[0., 1.]]), cfg)
    positives = int((out.labels.sum(1) > 0).sum())
    assert (positives, len(out.boxes) - positives) == expected


@pytest.mark.parametrize('rcnn, message', [
    (dict(assigner=dict(type='MaxIoUAssigner')), "assigner: type 'MaxIoUAssigner'"),
    (dict(sampler=dict(num=8, typo=1)), "sampler: unknown arguments ['typo']"),
    (dict(rpn=dict()), "unknown keys ['rpn']"),
    (dict(assigner=dict(neg_iou_thr=(0.1, 0.2, 0.3))), 'neg_iou_thr must be a number or a (low, high) pair'),
])
def test_bad_train_cfg_is_named(rcnn, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)').replace('[', r'\[')):
        check_rcnn_train_cfg(rcnn)
