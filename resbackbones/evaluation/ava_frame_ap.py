"""AVA frame-AP arithmetic and file readers, with the numbers of mmaction2 1.x's ``ava_eval``, a rewrite of
ActivityNet's ``get_ava_performance.py`` that differs from it in two ways, both kept here for parity: detections on
frames without ground truth are left out (the official evaluator counts them as false positives), and a class with
ground truth but no detection is left out of the mean (scored 0 there). So these numbers can read higher than the
official evaluator's on the same files.

Per class: in every evaluated frame the class's detections, best score first, are matched greedily to that frame's
ground-truth boxes of the class: a detection is a true positive when its highest-IoU box (the first on ties) has
IoU >= 0.5 and no earlier detection took it. AP is the VOC area under the precision envelope, with the class's
ground-truth boxes of the whole annotation file as recall's denominator. The float32 box arithmetic, the orders
and the score sort are those of mmaction2, so results agree to the last bit (the class mean to ~1e-16).

Files: annotations ``video_id,timestamp,x1,y1,x2,y2,action_id[,score or person_id]`` (coordinates 0..1 of the
frame) and exclusions ``video_id,timestamp``; the label map is read by ``datasets.video.ava_labelmap``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

IOU_THR = 0.5


def image_key(video_id: str, timestamp) -> str:
    """One frame's key, as mmaction2: '<video_id>,<timestamp as 4 digits>' (so '902' and '0902' are one frame)."""
    return f'{video_id},{int(timestamp):04d}'


def _rows(path: str, what: str):
    """(line number, columns) of a csv file's non-blank lines."""
    try:
        f = open(path, newline='')
    except OSError as e:
        raise FileNotFoundError(f'AVAMetric: cannot read {what} {path!r}: {e}') from e
    with f:
        reader = csv.reader(f)
        for row in reader:
            if row and any(c.strip() for c in row):
                yield reader.line_num, row


@dataclass
class FrameBoxes:
    """Boxes of several frames: keys (distinct frame keys, in order of first appearance), frame (N,) index into
    keys, boxes (N, 4) float64 [y1, x1, y2, x2], labels (N,) int, scores (N,) float64; grouped by frame, best
    score first in a frame (ties in file order)."""
    keys: list
    frame: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_entries(cls, keys: list, frame, boxes, labels, scores) -> 'FrameBoxes':
        """Entries in file order: frame (index into the distinct ``keys``), boxes as [x1, y1, x2, y2]."""
        frame = np.asarray(frame, dtype=np.int64)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[:, [1, 0, 3, 2]]
        labels, scores = np.asarray(labels, dtype=np.int64), np.asarray(scores, dtype=np.float64)
        order = np.lexsort((-scores, frame))  # stable: ties keep file order (Python's sorted in mmaction2)
        return cls(list(keys), frame[order], boxes[order], labels[order], scores[order])


def read_boxes_csv(path: str, class_whitelist: set[int], what: str = 'ann_file') -> FrameBoxes:
    """An AVA csv's boxes of the whitelisted classes (other classes are skipped, as mmaction2: AVA's 80-class
    annotations are scored on the 60 classes of the ActivityNet label map). A missing 8th column scores 1.0."""
    frame_of: dict = {}
    frames, boxes, labels, scores = [], [], [], []
    for n, row in _rows(path, what):
        if len(row) not in (7, 8):
            raise ValueError(f'AVAMetric: {path} line {n}: expected 7 or 8 columns (video_id,timestamp,x1,y1,x2,y2,'
                             f'action_id[,score]); got {len(row)}: {row}')
        try:
            key, box, label = image_key(row[0], row[1]), [float(v) for v in row[2:6]], int(row[6])
            score = float(row[7]) if len(row) == 8 else 1.0
        except ValueError:
            raise ValueError(f'AVAMetric: {path} line {n}: timestamp and action_id must be integers and x1,y1,x2,y2'
                             f'{",score" if len(row) == 8 else ""} numbers; got {row}') from None
        if label not in class_whitelist:
            continue
        if not (box[0] <= box[2] and box[1] <= box[3]):
            raise ValueError(f'AVAMetric: {path} line {n}: box needs x1 <= x2 and y1 <= y2; got {box}')
        frames.append(frame_of.setdefault(key, len(frame_of)))
        boxes.append(box)
        labels.append(label)
        scores.append(score)
    return FrameBoxes.from_entries(list(frame_of), frames, boxes, labels, scores)


def read_exclusions(path: str | None) -> set[str]:
    """Frame keys of an exclusions csv (video_id,timestamp per line); none for None."""
    excluded = set()
    for n, row in (_rows(path, 'exclude_file') if path else ()):
        if len(row) != 2:
            raise ValueError(f'AVAMetric: {path} line {n}: expected 2 columns (video_id,timestamp); got {row}')
        try:
            excluded.add(image_key(row[0], row[1]))
        except ValueError:
            raise ValueError(f'AVAMetric: {path} line {n}: timestamp must be an integer; got {row}') from None
    return excluded


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of row i of ``a`` with row i of ``b`` ([y1, x1, y2, x2], float32) in the TF evaluator's arithmetic:
    float32 overlaps and areas, float64 intersection and union (0/0 gives NaN, never a match)."""
    h = np.maximum(0.0, (np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])).astype(np.float64))
    w = np.maximum(0.0, (np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])).astype(np.float64))
    inter = h * w
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    with np.errstate(divide='ignore', invalid='ignore'):
        return inter / ((area_a + area_b) - inter)


def match_detections(gt: FrameBoxes, det: FrameBoxes, frames: np.ndarray, det_frames: np.ndarray,
                     iou_thr: float = IOU_THR) -> np.ndarray:
    """True-positive flags of detections (``det_frames``: each one's frame index in ``gt``) against ``gt``'s
    boxes of ``frames`` (bool mask over gt frames), greedily in the detections' order within a frame and class."""
    n_labels = int(max(gt.labels.max(initial=0), det.labels.max(initial=0))) + 1
    gt_keep = frames[gt.frame]
    gt_group = gt.frame[gt_keep] * n_labels + gt.labels[gt_keep]
    gt_order = np.argsort(gt_group, kind='stable')  # within a frame and class: gt's own (score-sorted) order
    gt_index = np.flatnonzero(gt_keep)[gt_order]
    gt_group = gt_group[gt_order]
    det_group = det_frames * n_labels + det.labels
    start = np.searchsorted(gt_group, det_group, 'left')
    count = np.searchsorted(gt_group, det_group, 'right') - start
    tp = np.zeros(len(det_frames), dtype=bool)
    has_gt = np.flatnonzero(count)
    if not len(has_gt):
        return tp
    # every (detection, ground-truth box of its frame and class) pair, gt boxes in order per detection
    pair_det = np.repeat(has_gt, count[has_gt])
    offsets = np.arange(len(pair_det)) - np.repeat(np.cumsum(count[has_gt]) - count[has_gt], count[has_gt])
    pair_gt = gt_index[start[pair_det] + offsets]
    iou = pair_iou(det.boxes[pair_det].astype(np.float32), gt.boxes[pair_gt].astype(np.float32))
    first = np.cumsum(count[has_gt]) - count[has_gt]
    best = np.maximum.reduceat(iou, first)  # NaN if any pair is NaN, as np.argmax picks the first NaN
    is_best = (iou == np.repeat(best, count[has_gt])) | np.repeat(np.isnan(best), count[has_gt])
    best_pair = np.minimum.reduceat(np.where(is_best, np.arange(len(iou)), len(iou)), first)
    claims = has_gt[best >= iou_thr]
    claimed_gt = pair_gt[best_pair[best >= iou_thr]]
    _, first_claim = np.unique(claimed_gt, return_index=True)  # claims run in detection order
    tp[claims[first_claim]] = True
    return tp


def voc_average_precision(scores: np.ndarray, tp: np.ndarray, num_gt: int) -> float:
    """VOC AP of one class: detections by descending score (the evaluator's unstable sort of float32 scores, so
    ties fall where they fall there), precision made non-increasing, summed where recall rises; NaN if num_gt=0."""
    if num_gt == 0:
        return float('nan')
    tp = tp[np.argsort(scores)[::-1]].astype(int)
    cum_tp, cum_fp = np.cumsum(tp), np.cumsum(1 - tp)
    precision = np.concatenate([[0], cum_tp.astype(float) / (cum_tp + cum_fp), [0]])
    recall = np.concatenate([[0], cum_tp.astype(float) / num_gt, [1]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    rises = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[rises] - recall[rises - 1]) * precision[rises]))


def frame_average_precision(gt: FrameBoxes, det: FrameBoxes, excluded: set[str] = frozenset(),
                            iou_thr: float = IOU_THR) -> dict[int, float]:
    """AP per class that has a detection in an evaluated frame: gt's frames not in ``excluded`` (frames without
    ground truth are ignored, mmaction2's ignore_empty_frames). Recall counts all of gt's boxes of the class,
    excluded frames' included (as mmaction2; AVA's excluded frames carry none)."""
    frames = np.array([k not in excluded for k in gt.keys], dtype=bool)
    gt_frame_of = {k: i for i, k in enumerate(gt.keys)}
    det_gt_frame = np.array([gt_frame_of.get(k, -1) for k in det.keys], dtype=np.int64)[det.frame]
    keep = det_gt_frame >= 0
    keep[keep] = frames[det_gt_frame[keep]]
    # gt's frame order; a frame's detections stay best score first
    order = np.flatnonzero(keep)[np.argsort(det_gt_frame[keep], kind='stable')]
    kept = FrameBoxes(det.keys, det.frame[order], det.boxes[order], det.labels[order], det.scores[order])
    tp = match_detections(gt, kept, frames, det_gt_frame[order], iou_thr)
    scores32 = kept.scores.astype(np.float32)
    return {int(c): voc_average_precision(scores32[kept.labels == c], tp[kept.labels == c],
                                          int(np.sum(gt.labels == c)))
            for c in np.unique(kept.labels)}
