"""Top-k accuracy over ImageClassifier 'predict' outputs (dicts with 'pred_score' and 'gt_label')."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from mmengine.evaluator import BaseMetric

from ..registry import METRICS


def check_label_range(labels: torch.Tensor, num_classes: int, owner: str) -> None:
    """ValueError for a ground-truth label outside the scores' classes: counted as a miss, it lowered accuracy
    silently (a dataset labelled beyond the model's num_classes)."""
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.numel():
        raise ValueError(f'{owner}: ground-truth label {int(bad[0])} is outside the {num_classes} classes of '
                         f'pred_score ({bad.numel()} such): does the dataset match the model\'s num_classes?')


def check_finite(scores: torch.Tensor, owner: str) -> None:
    """ValueError when rows of ``scores`` (N, K) hold NaN or inf: ranked first by the stable sort, a diverged
    model's NaN scores read as chance-level accuracy (10 classes: top-1 10%, top-5 50%)."""
    broken = int((~torch.isfinite(scores)).any(dim=1).sum())
    if broken:
        raise ValueError(f'{owner}: {broken} of {len(scores)} predictions have NaN or inf in pred_score: the model '
                         f'has diverged (or its weights did not load); no accuracy is computed from them')


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, topk: Sequence[int]) -> dict[int, float]:
    """Percent of rows of ``scores`` (N, K) whose label is among the k highest, for each k in ``topk``; among equal
    scores the lower class index ranks first, as ``argmax`` (the models' ``pred_label``) picks."""
    num_classes = scores.shape[1]
    too_big = [k for k in topk if k > num_classes]
    if too_big:
        raise ValueError(f'Accuracy: topk {too_big} exceeds the number of classes ({num_classes}) in pred_score')
    check_label_range(labels, num_classes, 'Accuracy')
    check_finite(scores, 'Accuracy')
    # a stable sort ranks tied scores by class index, as argmax picks pred_label (topk's order among ties is
    # arbitrary: a prediction shown right could be counted a miss)
    ranked = scores.argsort(dim=1, descending=True, stable=True)[:, :max(topk)]
    hits = ranked == labels.view(-1, 1)
    return {k: float(hits[:, :k].any(dim=1).float().mean() * 100) for k in topk}


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-k accuracy in percent, reported as 'accuracy/top1', 'accuracy/top5', ...

    Args:
        topk: the k values, e.g. (1, 5); each must be at most the number of classes.
        collect_device / prefix: mmengine BaseMetric options ('cpu' or 'gpu' gathering; key prefix).
    """

    default_prefix = 'accuracy'

    def __init__(self, topk: int | Sequence[int] = (1,), collect_device: str = 'cpu', prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        ks = tuple(topk) if isinstance(topk, Sequence) and not isinstance(topk, str) else (topk,)
        if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
            raise ValueError(f'Accuracy: topk must be positive integers, e.g. (1, 5); got {topk!r}')
        self.topk = tuple(sorted(set(ks)))

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep (pred_score, gt_label) of each prediction; the batch itself is not needed."""
        for i, sample in enumerate(data_samples):
            if not isinstance(sample, dict) or 'pred_score' not in sample or 'gt_label' not in sample:
                got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
                raise ValueError(f"Accuracy: prediction {i} must be a dict with 'pred_score' and 'gt_label' "
                                 f"(ImageClassifier 'predict' output on a labelled dataset); got {got}")
            label = torch.as_tensor(sample['gt_label'])
            if label.numel() != 1:
                raise ValueError(f"Accuracy: prediction {i} has gt_label of {label.numel()} values (multi-hot: a "
                                 f"multi-label model); score it with AccMetric(metric_list=('mean_average_precision',)"
                                 f")")
            self.results.append((torch.as_tensor(sample['pred_score']).detach().cpu().float().view(-1),
                                 int(label)))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """{'top1': %, 'top5': % ...}; mmengine prefixes the keys with 'accuracy/'."""
        if not results:
            raise ValueError('Accuracy: no predictions were processed (is the evaluation dataset empty?)')
        widths = sorted({score.numel() for score, _ in results})
        if len(widths) > 1:
            raise ValueError(f'Accuracy: pred_score lengths differ between predictions ({widths}); '
                             f'every prediction must score the same classes')
        scores = torch.stack([score for score, _ in results])
        labels = torch.tensor([label for _, label in results])
        return {f'top{k}': value for k, value in topk_accuracy(scores, labels, self.topk).items()}
