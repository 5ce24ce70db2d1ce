"""Which proposals an AVA detector trains on, and with which multi-hot labels (mmaction2's recipe on mmdet's parts).

Per clip: every proposal takes the ground-truth box it overlaps most; it is positive when that IoU reaches
``pos_iou_thr`` (or it is a ground truth's best match at >= ``min_pos_iou``), negative below ``neg_iou_thr``
(``MaxIoUAssignerAVA``); the ground-truth boxes join the proposals first (``add_gt_as_proposals``); then up to
``num x pos_fraction`` positives and the rest negatives are drawn at random (mmdet's ``RandomSampler``). A
positive's target is its ground truth's multi-hot label vector, a negative's is all zeros.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import box_area

ASSIGNER = dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9, min_pos_iou=0.9,
                gt_max_assign_all=True, match_low_quality=True)
SAMPLER = dict(type='RandomSampler', num=32, pos_fraction=1.0, neg_pos_ub=-1, add_gt_as_proposals=True)


@dataclass
class SampledProposals:
    """One clip's training RoIs: ``boxes`` (P + N, 4) pixels, positives first, and their ``labels``
    (P + N, num_classes) multi-hot (zeros for the N negatives)."""

    boxes: torch.Tensor
    labels: torch.Tensor


def _settings(cfg: dict | None, defaults: dict, key: str) -> dict:
    cfg = dict(cfg or {})
    kind = cfg.pop('type', defaults['type'])
    if kind != defaults['type']:
        raise ValueError(f"train_cfg.rcnn.{key}: type {kind!r} is not supported; AVA detection uses "
                         f"{defaults['type']!r}")
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise ValueError(f'train_cfg.rcnn.{key}: unknown arguments {unknown} (known: {sorted(set(defaults) - {"type"})})')
    return {**defaults, **cfg}


def check_rcnn_train_cfg(rcnn: dict | None) -> dict:
    """mmaction2's ``train_cfg.rcnn`` (assigner, sampler, pos_weight) with defaults filled and unknown keys named.

    ``pos_weight`` is accepted and has no effect, as in mmaction2: its ``bbox_target`` computes label weights that
    ``BBoxHeadAVA`` never reads (the loss averages over the positive RoIs)."""
    rcnn = dict(rcnn or {})
    unknown = sorted(set(rcnn) - {'assigner', 'sampler', 'pos_weight', 'debug'})
    if unknown:
        raise ValueError(f'train_cfg.rcnn: unknown keys {unknown} (known: assigner, sampler, pos_weight)')
    assigner = _settings(rcnn.get('assigner'), ASSIGNER, 'assigner')
    sampler = _settings(rcnn.get('sampler'), SAMPLER, 'sampler')
    neg = assigner['neg_iou_thr']
    if not isinstance(neg, (float, int)) and not (isinstance(neg, (tuple, list)) and len(neg) == 2):
        raise ValueError(f'train_cfg.rcnn.assigner.neg_iou_thr must be a number or a (low, high) pair; got {neg!r}')
    return dict(assigner=assigner, sampler=sampler, pos_weight=rcnn.get('pos_weight', 1.0))


def overlaps_of(gt_boxes: torch.Tensor, proposals: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(gts, proposals) IoU as mmdet's ``bbox_overlaps``: the union is at least ``eps``, so two zero-area boxes
    (a person box a crop squashed flat) overlap 0, a negative, where torchvision's 0/0 gave NaN (ignored)."""
    top_left = torch.max(gt_boxes[:, None, :2], proposals[None, :, :2])
    bottom_right = torch.min(gt_boxes[:, None, 2:], proposals[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    union = box_area(gt_boxes)[:, None] + box_area(proposals)[None, :] - inter
    return inter / union.clamp(min=eps)


def assign(proposals: torch.Tensor, gt_boxes: torch.Tensor, settings: dict) -> torch.Tensor:
    """(num_proposals,) long: -1 ignored, 0 negative, k >= 1 the 1-based ground truth of a positive."""
    assigned = torch.full((len(proposals),), -1, dtype=torch.long, device=proposals.device)
    if len(gt_boxes) == 0 or len(proposals) == 0:
        return assigned.fill_(0) if len(gt_boxes) == 0 else assigned
    overlaps = overlaps_of(gt_boxes, proposals)
    best_iou, best_gt = overlaps.max(dim=0)
    neg = settings['neg_iou_thr']
    low, high = (0.0, float(neg)) if isinstance(neg, (float, int)) else map(float, neg)
    assigned[(best_iou >= low) & (best_iou < high)] = 0
    positive = best_iou >= settings['pos_iou_thr']
    assigned[positive] = best_gt[positive] + 1
    if settings['match_low_quality']:  # each ground truth claims its best proposals, overriding step 3
        gt_best_iou, gt_best = overlaps.max(dim=1)
        for i in range(len(gt_boxes)):
            if gt_best_iou[i] >= settings['min_pos_iou']:
                if settings['gt_max_assign_all']:
                    assigned[overlaps[i] == gt_best_iou[i]] = i + 1
                else:
                    assigned[gt_best[i]] = i + 1
    return assigned


def _random_subset(indices: torch.Tensor, num: int) -> torch.Tensor:
    if len(indices) <= num:
        return indices
    return indices[torch.randperm(len(indices))[:num].to(indices.device)]  # mmdet's random_choice


def sample(proposals: torch.Tensor, gt_boxes: torch.Tensor, gt_labels: torch.Tensor, cfg: dict) -> SampledProposals:
    """Assign then sample one clip's proposals (pixels, (n, 4)) against its ground truth (``gt_boxes`` (k, 4),
    ``gt_labels`` (k, num_classes)); ``cfg`` is ``check_rcnn_train_cfg``'s."""
    assigner, sampler = cfg['assigner'], cfg['sampler']
    assigned = assign(proposals, gt_boxes, assigner)
    boxes = proposals
    if sampler['add_gt_as_proposals'] and len(gt_boxes):
        boxes = torch.cat([gt_boxes, proposals])
        assigned = torch.cat([torch.arange(1, len(gt_boxes) + 1, device=assigned.device), assigned])
    positives = _random_subset(torch.nonzero(assigned > 0).flatten(), int(sampler['num'] * sampler['pos_fraction']))
    positives = positives.unique()  # mmdet's, which also sorts them
    num_neg = sampler['num'] - len(positives)
    if sampler['neg_pos_ub'] >= 0:
        num_neg = min(num_neg, int(sampler['neg_pos_ub'] * max(1, len(positives))))
    negatives = _random_subset(torch.nonzero(assigned == 0).flatten(), num_neg).unique()
    labels = torch.zeros(len(positives) + len(negatives), gt_labels.shape[1], dtype=gt_labels.dtype,
                         device=gt_labels.device)
    labels[:len(positives)] = gt_labels[assigned[positives] - 1]
    return SampledProposals(boxes=torch.cat([boxes[positives], boxes[negatives]]), labels=labels)
