"""mmaction2's ``AccMetric``: top-k and mean class accuracy of recognizer predictions, one per video, and the mean
average precision over classes for multi-label data.

A recognizer already averages a video's clips and crops into one ``pred_score`` (``average_clips``), so every
prediction here is one video; several predictions of one video (clips tested as separate samples) can also be
averaged here by giving ``data_samples`` a shared 'filename' and ``average_by='filename'``. A two-stream
recognizer (PoseC3D's RGB + pose, ``MMRecognizer3D``) gives ``pred_score`` as dict(rgb=..., pose=...): each stream
is scored, and so are their weighted sums, under mmaction2's names ('rgb_top1', 'RGBPose_1:1_top1', ...).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from ..models.labels import sample_value
from ..registry import METRICS
from .accuracy import check_finite, check_label_range, topk_accuracy

METRIC_NAMES = ('top_k_accuracy', 'mean_class_accuracy', 'mean_average_precision')
SINGLE_LABEL = ('top_k_accuracy', 'mean_class_accuracy')
FUSIONS = ((1, 1), (2, 1), (1, 2))  # (rgb, pose) weights of the two-stream sums mmaction2 reports


def _flat(score) -> torch.Tensor:
    return torch.as_tensor(score).detach().cpu().float().view(-1)


def mean_class_accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over the classes present in ``labels`` of the fraction of their videos ranked first (0..1)."""
    hits = scores.argmax(dim=1) == labels
    return float(torch.stack([hits[labels == c].float().mean() for c in labels.unique()]).mean())


def average_precision(scores: torch.Tensor, positives: torch.Tensor) -> float:
    """Area under the step precision-recall curve of one class (sklearn's ``average_precision_score``, mmaction2's
    ``mean_average_precision`` per class): sum over distinct score thresholds of recall gained x precision there."""
    order = scores.argsort(descending=True)
    scores, positives = scores[order], positives[order].double()
    last_of_ties = torch.cat([scores[1:] != scores[:-1], torch.tensor([True])])
    tp = positives.cumsum(0)[last_of_ties]
    seen = torch.arange(1, len(scores) + 1, dtype=torch.float64)[last_of_ties]
    recall_gain = torch.diff(tp, prepend=torch.zeros(1)) / tp[-1]
    return float((recall_gain * tp / seen).sum())


def mean_average_precision(scores: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean of the per-class average precision over the classes with at least one positive video (0..1)."""
    present = [c for c in range(targets.shape[1]) if targets[:, c].any()]
    if not present:
        raise ValueError('AccMetric: mean_average_precision needs at least one positive label')
    return float(sum(average_precision(scores[:, c], targets[:, c] > 0) for c in present) / len(present))


@METRICS.register_module()
class AccMetric(BaseMetric):
    """'acc/top1', 'acc/top5' (fractions 0..1, as mmaction2), 'acc/mean1' (mean class accuracy) and
    'acc/mean_average_precision' (multi-label data, or single labels taken as one-hot).

    Args:
        metric_list: any of 'top_k_accuracy', 'mean_class_accuracy', 'mean_average_precision'; the first two need
            single labels. metric_options: dict(top_k_accuracy=dict(
            topk=(1, 5))). average_by: a data-sample key (e.g. 'filename') whose equal values are one video:
            their scores are averaged before scoring; None scores every prediction on its own.
    """

    default_prefix = 'acc'

    def __init__(self, metric_list: str | Sequence[str] = ('top_k_accuracy', 'mean_class_accuracy'),
                 metric_options: dict | None = None, average_by: str | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        names = (metric_list,) if isinstance(metric_list, str) else tuple(metric_list)
        unknown = [m for m in names if m not in METRIC_NAMES]
        if not names or unknown:
            raise ValueError(f'AccMetric: metric_list must name some of {METRIC_NAMES}; got {metric_list!r}')
        topk = (metric_options or {}).get('top_k_accuracy', {}).get('topk', (1, 5))
        topk = (topk,) if isinstance(topk, int) else tuple(topk)
        if not topk or not all(isinstance(k, int) and k >= 1 for k in topk):
            raise ValueError(f'AccMetric: topk must be positive integers; got {topk!r}')
        self.metric_list, self.topk, self.average_by = names, tuple(sorted(set(topk))), average_by

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for i, sample in enumerate(data_samples):
            if not isinstance(sample, dict) or 'pred_score' not in sample or 'gt_label' not in sample:
                got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
                raise ValueError(f"AccMetric: prediction {i} needs 'pred_score' and 'gt_label' (a recognizer's "
                                 f"'predict' output on a labelled dataset); got {got}")
            key = None
            if self.average_by:  # the recognizers' predictions carry scores only: the key is in the batch
                key = sample.get(self.average_by)
                if key is None and isinstance(data_batch, Mapping):
                    key = sample_value(data_batch.get('data_samples'), i, self.average_by)
                if key is None:
                    raise ValueError(f'AccMetric: average_by={self.average_by!r} but neither prediction {i} nor its '
                                     f"batch's data_samples have that key (is it in PackActionInputs' meta_keys?)")
            label = torch.as_tensor(sample['gt_label']).detach().cpu()
            label = int(label) if label.numel() == 1 else tuple(label.view(-1).tolist())  # multi-hot stays a tuple
            score = sample['pred_score']
            score = {name: _flat(s) for name, s in score.items()} if isinstance(score, dict) else _flat(score)
            self.results.append((key, score, label))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """The metrics of the predictions; for per-stream scores (a two-stream recognizer's dict ``pred_score``),
        each stream's prefixed with its name and, for 'rgb' and 'pose', their 1:1, 2:1 and 1:2 weighted sums'
        prefixed 'RGBPose_1:1_' ... (mmaction2's names)."""
        if not results:
            raise ValueError('AccMetric: no predictions were processed (is the evaluation dataset empty?)')
        streams = [tuple(sorted(score)) if isinstance(score, dict) else None for _, score, _ in results]
        if len(set(streams)) > 1:
            raise ValueError(f'AccMetric: predictions mix score kinds {sorted(set(map(str, streams)))}')
        if streams[0] is None:
            return self._calculate(*self._per_video(results))
        out, per_stream = {}, {}
        for name in streams[0]:
            per_stream[name], labels = self._per_video([(k, score[name], y) for k, score, y in results])
            out.update({f'{name}_{metric}': v for metric, v in self._calculate(per_stream[name], labels).items()})
        if set(per_stream) == {'rgb', 'pose'}:
            for rgb, pose in FUSIONS:
                fused = per_stream['rgb'] * rgb + per_stream['pose'] * pose
                out.update({f'RGBPose_{rgb}:{pose}_{metric}': v
                            for metric, v in self._calculate(fused, labels).items()})
        return out

    def _per_video(self, results: list) -> tuple[torch.Tensor, list]:
        """(videos, classes) scores, averaged over each video's predictions, and each video's label."""
        videos: OrderedDict = OrderedDict()
        for n, (key, score, label) in enumerate(results):
            entry = videos.setdefault(key if key is not None else n, [[], label])
            if entry[1] != label:
                raise ValueError(f'AccMetric: video {key!r} has predictions with labels {entry[1]} and {label}')
            entry[0].append(score)
        widths = {s.numel() for scores, _ in videos.values() for s in scores}
        if len(widths) > 1:
            raise ValueError(f'AccMetric: pred_score lengths differ ({sorted(widths)})')
        scores = torch.stack([torch.stack(s).mean(0) for s, _ in videos.values()])
        return scores, [label for _, label in videos.values()]

    def _calculate(self, scores: torch.Tensor, labels: list) -> dict[str, float]:
        """The metrics of (videos, classes) scores against single labels or multi-hot tuples."""
        out = {}
        check_finite(scores, 'AccMetric')
        multi = [label for label in labels if isinstance(label, tuple)]
        if multi and (len(multi) != len(labels) or any(len(m) != scores.shape[1] for m in multi)):
            raise ValueError(f'AccMetric: labels mix single labels and multi-hot vectors, or their length differs '
                             f'from the {scores.shape[1]} scores')
        if not multi:
            check_label_range(torch.tensor(labels), scores.shape[1], 'AccMetric')
        if 'mean_average_precision' in self.metric_list:
            targets = torch.tensor(multi) if multi else F.one_hot(torch.tensor(labels), scores.shape[1])
            out['mean_average_precision'] = mean_average_precision(scores, targets)
        if multi and any(m in self.metric_list for m in SINGLE_LABEL):
            raise ValueError("AccMetric: top_k_accuracy and mean_class_accuracy need single labels; for multi-label "
                             "data use metric_list=('mean_average_precision',)")
        labels = torch.tensor(labels) if not multi else None
        if 'top_k_accuracy' in self.metric_list:  # k past the classes ranks them all: 1.0, as mmaction2
            ranks = {k: min(k, scores.shape[1]) for k in self.topk}
            hits = topk_accuracy(scores, labels, sorted(set(ranks.values())))
            out.update({f'top{k}': hits[r] / 100 for k, r in ranks.items()})
        if 'mean_class_accuracy' in self.metric_list:
            out['mean1'] = mean_class_accuracy(scores, labels)
        return out
