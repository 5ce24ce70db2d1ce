"""mmaction2's ``AVAMetric``: frame-level mAP at IoU 0.5 of spatio-temporal action detections on AVA.

Each prediction is one key frame (``video_id``, ``timestamp``) with person boxes and per-class scores. A box counts
for a class when its score is above ``action_thr`` (a negative ``action_thr``: only for its best class), as
mmaction2's ``bbox2result``. mmaction2 writes these to a csv with 4-decimal floats and evaluates that file; the
same rounding is applied here in memory (exactly that of ``f'{v:.4f}'``), so the numbers are mmaction2's.
Ground truth, exclusions and the label map are read at evaluation time; only the label map's classes are scored
(AVA's ActivityNet protocol: 60 of the 80 annotated classes), frames without ground truth are ignored.

Reports 'mAP/overall' and the means over the AVA class groups 'mAP/person_movement' (ids 1-14),
'mAP/object_manipulation' (15-63) and 'mAP/person_interaction' (64-80); a group without scored classes is NaN, as
mmaction2. Per-class APs are logged and kept in ``class_aps`` ({class id: AP}) after each evaluation.
"""
from __future__ import annotations

import numbers
import os
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from ..datasets.video.ava_labelmap import read_labelmap
from ..engine.atomic import atomic_path
from ..registry import METRICS
from .ava_frame_ap import FrameBoxes, frame_average_precision, image_key, read_boxes_csv, read_exclusions

GROUPS = (('person_movement', 1, 14), ('object_manipulation', 15, 63), ('person_interaction', 64, None))


def round4(values: np.ndarray) -> np.ndarray:
    """Integers k with k / 1e4 == float(f'{v:.4f}') for every v (mmaction2's csv round trip). For float16/32 the
    product v * 1e4 is exact in float64, so rint (half to even, as the formatter on exact values) is exact."""
    if values.dtype in (np.float16, np.float32):
        return np.rint(values.astype(np.float64) * 1e4).astype(np.int64)
    flat = [int(f'{v:.4f}'.replace('.', '')) for v in values.astype(np.float64).ravel().tolist()]
    return np.array(flat, dtype=np.int64).reshape(values.shape)


def as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    return np.asarray(value)


@METRICS.register_module()
class AVAMetric(BaseMetric):
    """Frame mAP@0.5IoU of AVA action detections (mmaction2's arguments and numbers).

    Args:
        ann_file: ground-truth csv (video_id,timestamp,x1,y1,x2,y2,action_id,person_id; coordinates 0..1).
        exclude_file: csv of video_id,timestamp frames left out of the evaluation; None for none.
        label_file: the ``.pbtxt`` label map; its ids are the classes scored.
        options: ('mAP',), the only evaluation.
        action_thr: a box counts for a class whose score is above this (a sequence: one per score column); a
            negative number keeps each box for its best class only (single-label models), column by column.
        num_classes: score columns, background column 0 included.
        custom_classes: the AVA ids of score columns 1.. (num_classes - 1 of them); only these are scored.
        out_file: also write the detections as mmaction2's result csv (video_id,timestamp,x1,y1,x2,y2,action_id,
            score; 4 decimals) there, atomically.
    """

    default_prefix = 'mAP'

    def __init__(self, ann_file: str, exclude_file: str | None, label_file: str, options: Sequence[str] = ('mAP',),
                 action_thr: float | Sequence[float] = 0.002, num_classes: int = 81,
                 custom_classes: Sequence[int] | None = None, collect_device: str = 'cpu', prefix: str | None = None,
                 out_file: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if tuple([options] if isinstance(options, str) else options) != ('mAP',):
            raise ValueError(f"AVAMetric: options must be ('mAP',), the only AVA evaluation; got {options!r}")
        if not isinstance(num_classes, numbers.Integral) or num_classes < 2:
            raise ValueError(f'AVAMetric: num_classes (score columns, background included) must be an integer >= 2; '
                             f'got {num_classes!r}')
        if isinstance(action_thr, numbers.Real):
            thr = [float(action_thr)] * num_classes
        else:
            thr = list(action_thr)
            if len(thr) != num_classes or not all(isinstance(t, numbers.Real) for t in thr):
                raise ValueError(f'AVAMetric: action_thr must be a number or {num_classes} numbers (one per score '
                                 f'column); got {action_thr!r}')
        if custom_classes is not None:
            custom_classes = list(custom_classes)
            if len(custom_classes) != num_classes - 1 or not all(
                    isinstance(c, numbers.Integral) and c > 0 for c in custom_classes):
                raise ValueError(f'AVAMetric: custom_classes must be {num_classes - 1} positive class ids (one per '
                                 f'score column after the background, num_classes={num_classes}); got '
                                 f'{custom_classes!r}')
            repeated = sorted({c for c in custom_classes if custom_classes.count(c) > 1})
            if repeated:
                raise ValueError(f'AVAMetric: custom_classes repeats ids {repeated}; each id is one score column (a '
                                 f'repeated one would score its boxes twice, the copy as false positives)')
        self.ann_file, self.exclude_file, self.label_file = ann_file, exclude_file, label_file
        self.options, self.num_classes, self.action_thr = ('mAP',), int(num_classes), action_thr
        self.custom_classes, self.out_file = custom_classes, out_file
        self.thr = np.array(thr[1:], dtype=np.float64)
        self.column_ids = np.array(custom_classes if custom_classes is not None else range(1, num_classes))
        self.class_aps: dict[int, float] = {}

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Keep each frame's boxes and its (box, class, score) entries above the threshold, rounded as mmaction2."""
        for i, sample in enumerate(data_samples):
            if isinstance(sample, BaseDataElement):  # mmengine's Evaluator hands over to_dict() copies
                sample = sample.to_dict()
            pred = sample.get('pred_instances') if isinstance(sample, dict) else None
            if isinstance(pred, BaseDataElement):
                pred = pred.to_dict()
            missing = [k for k in ('video_id', 'timestamp') if not isinstance(sample, dict) or k not in sample]
            if not isinstance(pred, dict) or missing or 'bboxes' not in pred or 'scores' not in pred:
                raise ValueError(f"AVAMetric: prediction {i} needs 'video_id', 'timestamp' and 'pred_instances' with "
                                 f"'bboxes' and 'scores' (a detector's predict output on an AVA dataset)")
            frame = f"video {sample['video_id']!r} timestamp {sample['timestamp']!r}"
            bboxes, scores = as_numpy(pred['bboxes']), as_numpy(pred['scores'])
            if bboxes.ndim != 2 or bboxes.shape[1] != 4 or not np.issubdtype(bboxes.dtype, np.floating):
                raise ValueError(f"AVAMetric: pred_instances['bboxes'] of {frame} must be a float (P, 4) array of "
                                 f"x1, y1, x2, y2; got {bboxes.dtype} {tuple(bboxes.shape)}")
            expected = (len(bboxes), self.num_classes)
            if scores.shape != expected or not np.issubdtype(scores.dtype, np.floating):
                raise ValueError(f"AVAMetric: pred_instances['scores'] of {frame} must be a float (P, num_classes) = "
                                 f"{expected} array; got {scores.dtype} {tuple(scores.shape)}")
            if not (np.isfinite(bboxes).all() and np.isfinite(scores).all()):
                raise ValueError(f'AVAMetric: predictions of {frame} have NaN or infinite boxes or scores')
            keep = scores[:, 1:] > self.thr.astype(scores.dtype)  # compared in the scores' precision
            best_only = np.flatnonzero(self.thr < 0)  # column by column, as mmaction2's bbox2result
            keep[:, best_only] = scores[:, 1:].argmax(axis=1)[:, None] == best_only[None, :]
            column, box = np.nonzero(keep.T)  # class by class, boxes in order: mmaction2's csv order
            boxes = round4(bboxes)
            bad = (boxes[box, 0] > boxes[box, 2]) | (boxes[box, 1] > boxes[box, 3])
            if bad.any():
                raise ValueError(f'AVAMetric: box {boxes[box[bad][0]] / 1e4} of {frame} needs x1 <= x2 and y1 <= y2')
            try:
                timestamp = int(sample['timestamp'])
            except (TypeError, ValueError):
                raise ValueError(f'AVAMetric: timestamp of {frame} must be an integer') from None
            self.results.append(dict(video_id=str(sample['video_id']), timestamp=timestamp, boxes=boxes,
                                     box=box.astype(np.int32), labels=self.column_ids[column].astype(np.int32),
                                     scores=round4(scores[box, column + 1])))

    def compute_metrics(self, results: list) -> dict[str, float]:
        if not results:
            raise ValueError('AVAMetric: no predictions were processed (is the evaluation dataset empty?)')
        if self.out_file:
            self.write_csv(results, self.out_file)
        categories, class_ids = read_labelmap(self.label_file)
        names = {c['id']: c['name'] for c in categories}
        if self.custom_classes is not None:
            unknown = sorted(set(self.custom_classes) - class_ids)
            if unknown:
                raise ValueError(f'AVAMetric: custom_classes {unknown} are not in label_file {self.label_file}')
            class_ids = set(self.custom_classes)
        gt = read_boxes_csv(self.ann_file, class_ids)
        if not len(gt.labels):
            raise ValueError(f'AVAMetric: ann_file {self.ann_file} has no boxes of the {len(class_ids)} classes '
                             f'scored (those of {"custom_classes" if self.custom_classes else "label_file"})')
        det = self.detections(results, class_ids)
        self.class_aps = frame_average_precision(gt, det, read_exclusions(self.exclude_file))
        aps = dict(sorted(self.class_aps.items()))
        with warnings.catch_warnings():  # NaN for a group (or all) without a scored class, as mmaction2
            warnings.simplefilter('ignore', RuntimeWarning)
            out = {'overall': float(np.nanmean(list(aps.values())))}
            for group, low, high in GROUPS:
                out[group] = float(np.nanmean([ap for c, ap in aps.items() if low <= c <= (high or c)]))
        rows = [f'{c:>3}  {names.get(c, "")[:40]:<40}  {ap:.4f}' for c, ap in aps.items()]
        print_log(f'AVAMetric: AP@0.5IoU of {len(aps)} classes with detections on {len(gt.keys)} annotated frames:\n'
                  + '\n'.join(rows) + '\n' + '\n'.join(f'{k} mAP: {v:.4f}' for k, v in out.items()),
                  logger='current')
        return out

    @staticmethod
    def detections(results: list, class_ids: set[int]) -> FrameBoxes:
        """All results' entries of the scored classes, as mmaction2 reads its csv back (a frame predicted twice
        pools both)."""
        frame_of: dict = {}
        frames = [np.full(len(r['labels']), frame_of.setdefault(image_key(r['video_id'], r['timestamp']),
                                                                len(frame_of))) for r in results]
        frames = np.concatenate(frames)
        labels = np.concatenate([r['labels'] for r in results]).astype(np.int64)
        scored = np.isin(labels, sorted(class_ids))
        boxes = np.concatenate([r['boxes'][r['box']].reshape(-1, 4) for r in results])[scored] / 1e4
        scores = np.concatenate([r['scores'] for r in results])[scored] / 1e4
        return FrameBoxes.from_entries(list(frame_of), frames[scored], boxes, labels[scored], scores)

    @staticmethod
    def write_csv(results: list, path: str) -> None:
        """mmaction2's result csv: one line per (box, class) entry, frame by frame, class by class."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)  # else the error named a temporary file
        with atomic_path(path) as tmp, open(tmp, 'w') as f:
            for r in results:
                head = f"{r['video_id']},{r['timestamp']},"
                boxes = r['boxes'][r['box']].tolist()
                for box, label, score in zip(boxes, r['labels'].tolist(), r['scores'].tolist()):
                    f.write(head + ','.join(f'{v / 1e4:.4f}' for v in box) + f',{label},{score / 1e4:.4f}\n')
        print_log(f'AVAMetric: detections written to {path}', logger='current')
