"""MultiSports frame and video AP arithmetic, with the numbers of mmaction2's ``multisports_utils`` (MCG-NJU's
MultiSports evaluation).

Detections are rows [video index, frame, label, score, x1, y1, x2, y2] (pixels, video index into the GT's
``test_videos[0]``); ground truth is the GT pickle's ``gttubes`` {video: {label: [(n, 5) frame, x1, y1, x2, y2]}}.

- Frame AP: per class, detections best first are true positives when the highest-IoU ground-truth box of their frame
  (the first on ties) has IoU >= thr and no earlier detection took it; VOC AP (area under the precision envelope).
- Tubes: per video and class, frame by frame, boxes are rescored (a box overlapping a better one by IoU > 0.6 is
  scaled by 1 - IoU) and the best 10 kept; live tubes, best mean score first, take the best-scored box of IoU >= 0.5
  with their last box, a tube without one ends, left-over boxes start tubes. Tubes scoring < 0.005 on average or
  shorter than ``len_thr`` frames are dropped.
- Video AP: tubes are matched to ground-truth tubes as frames are above, by spatio-temporal IoU (mean box IoU over
  the common frames times the temporal IoU of the extents, both measured as last - first frame).

Sort calls, dtypes (linked tubes are float32) and summation orders are mmaction2's, so results agree to the bit.
Six classes are not scored, as there.
"""
from __future__ import annotations

import numpy as np

SKIPPED_LABELS = frozenset({'aerobic kick jump', 'aerobic off axis jump', 'aerobic butterfly jump',
                            'aerobic balance turn', 'basketball save', 'basketball jump ball'})
LINK_IOU, RESCORE_IOU, KEEP_PER_FRAME, MIN_TUBE_SCORE = 0.5, 0.6, 10, 0.005


def box_iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(n,) IoU of (n, 4) boxes with one box, VOC areas (no +1)."""
    inter = (np.maximum(0, np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]))
             * np.maximum(0, np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1])))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def tube_iou(gt: np.ndarray, tube: np.ndarray):
    """Spatio-temporal IoU of two (n, 5) tubes of consecutive frames (a numpy scalar of their dtype, 0.0 apart)."""
    tmin, tmax = max(gt[0, 0], tube[0, 0]), min(gt[-1, 0], tube[-1, 0])
    if tmax < tmin:
        return 0.0
    parts = []
    for t in (gt, tube):
        first, last = np.flatnonzero(t[:, 0] == tmin), np.flatnonzero(t[:, 0] == tmax)
        if len(first) != 1 or len(last) != 1 or last[0] - first[0] != tmax - tmin:
            raise ValueError(f'MultiSportsMetric: tubes must have one box per frame over consecutive frames; got '
                             f'frames {t[:, 0].tolist()}')
        parts.append(t[first[0]:last[0] + 1, 1:5])
    a, b = parts
    inter = np.maximum(0, np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])) * np.maximum(
        0, np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]))
    spatial = np.mean(inter / ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
                               - inter))
    return spatial * ((tmax - tmin) / (max(gt[-1, 0], tube[-1, 0]) - min(gt[0, 0], tube[0, 0])))


def voc_ap(tp: np.ndarray, num_gt: int) -> float:
    """VOC AP of detections in rank order (``tp``: true positive or not) against ``num_gt`` ground truths."""
    hits = np.cumsum(tp).astype(np.float64)
    recall = np.concatenate([[0], hits / float(num_gt), [1]])
    precision = np.concatenate([[0], hits / np.arange(1, len(tp) + 1, dtype=np.float64), [0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return np.sum((recall[steps] - recall[steps - 1]) * precision[steps])


def frame_ap(gttubes: dict, videos: list, labels: list, dets: np.ndarray, thr: float) -> dict:
    """{class name: frame AP in percent} of the scored classes with ground truth."""
    aps = {}
    for label, name in enumerate(labels):
        if name in SKIPPED_LABELS:
            continue
        gt: dict = {}
        for vi, video in enumerate(videos):
            for tube in gttubes[video].get(label, ()):
                for row in np.asarray(tube):
                    gt.setdefault((vi, int(row[0])), []).append(row[1:5].tolist())
        num_gt = sum(len(boxes) for boxes in gt.values())
        if not num_gt:
            continue
        gt = {k: np.array(boxes) for k, boxes in gt.items()}
        mine = dets[dets[:, 2] == label]
        taken: dict = {}
        tp = np.zeros(len(mine), dtype=bool)
        for rank, j in enumerate(np.argsort(-mine[:, 3])):
            k = (int(mine[j, 0]), int(mine[j, 1]))
            if k in gt:
                ious = box_iou(gt[k], mine[j, 4:8])
                best = np.argmax(ious)
                used = taken.setdefault(k, np.zeros(len(gt[k]), dtype=bool))
                if ious[best] >= thr and not used[best]:
                    tp[rank] = used[best] = True
        aps[name] = voc_ap(tp, num_gt) * 100
    return aps


def rescore(boxes: np.ndarray) -> np.ndarray:
    """mmaction2's ``nms_tubelets`` on one frame's (n, 5) boxes + scores: boxes overlapping a better kept one by IoU
    > 0.6 (+1 pixel areas) are scaled by 1 - IoU, not dropped; the best 10 after rescoring, best first."""
    if not len(boxes):
        return boxes
    x1, y1, x2, y2, scores = boxes.T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    weight = np.ones_like(scores)
    while order.size:
        i, rest = order[0], order[1:]
        inter = (np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
                 * np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1))
        ious = inter / (area[rest] + area[i] - inter)
        over = ious > RESCORE_IOU
        weight[rest[over]] = 1 - ious[over]
        order = rest[ious <= RESCORE_IOU]  # a NaN IoU leaves the loop unweighted, as mmaction2
    out = boxes.copy()
    out[:, -1] *= weight
    return out[np.argsort(out[:, -1])[::-1]][:KEEP_PER_FRAME]


def tube_score(tube: list) -> float:
    return np.mean(np.array([row[-1] for _, row in tube]))


def link_class(frames: dict, nframes: int, len_thr: int) -> list:
    """[(score, (n, 6) float32 tube of frame, x1, y1, x2, y2, box score)] linked from one class's boxes of one video
    (``frames``: {frame: (m, 5) boxes + scores}, frames 1..nframes)."""
    empty = np.empty((0, 5))
    finished, live = [], []
    for frame in range(1, nframes + 1):
        boxes = rescore(frames.get(frame, empty))
        if frame == 1:
            live = [[(1, row)] for row in boxes]
            continue
        live = [live[i] for i in np.argsort(-np.array([tube_score(t) for t in live]))]
        ended = []
        for i, tube in enumerate(live):
            ious = box_iou(boxes[:, :4], tube[-1][1][:4])
            valid = np.flatnonzero(ious >= LINK_IOU)
            if valid.size:
                pick = valid[np.argmax(boxes[valid, -1])]
                tube.append((frame, boxes[pick]))
                boxes = np.delete(boxes, pick, axis=0)
            else:
                ended.append(i)
        finished += [live.pop(i) for i in reversed(ended)]
        live += [[(frame, row)] for row in boxes]
    out = []
    for tube in finished + live:
        score = tube_score(tube)
        start, end = tube[0][0], tube[-1][0]
        if score < MIN_TUBE_SCORE or end + 1 - start < len_thr:
            continue
        rows = np.zeros((end + 1 - start, 6), dtype=np.float32)
        rows[:, 0] = np.arange(start, end + 1)
        rows[:, 1:] = np.array([row for _, row in tube])  # one box per frame: tubes extend frame by frame
        out.append((score, rows))
    return out


def link_tubes(videos: list, nframes: dict, num_labels: int, dets: np.ndarray, len_thr: int) -> dict:
    """{label: [(video, score, tube)]}: the detections linked into tubes, videos in ``videos`` order."""
    tubes: dict = {label: [] for label in range(num_labels)}
    order = np.lexsort((dets[:, 1], dets[:, 2], dets[:, 0]))  # stable: detection order within a frame
    dets = dets[order]
    cuts = np.flatnonzero(np.diff(dets[:, 0])) + 1
    by_video = {int(group[0, 0]): group for group in np.split(dets, cuts) if len(group)}
    for vi, video in enumerate(videos):
        if vi not in by_video:
            continue
        group = by_video[vi]
        for label in np.unique(group[:, 2]).astype(int).tolist():
            mine = group[group[:, 2] == label]
            frames = {int(f): mine[mine[:, 1] == f][:, [4, 5, 6, 7, 3]] for f in np.unique(mine[:, 1])}
            tubes[label] += [(video, score, tube) for score, tube in link_class(frames, int(nframes[video]), len_thr)]
    return tubes


def video_ap(gttubes: dict, videos: list, labels: list, tubes: dict, thresholds) -> list[dict]:
    """[{class name: video AP in percent}] for each threshold, scored classes with ground truth."""
    aps: list[dict] = [{} for _ in thresholds]
    for label, name in enumerate(labels):
        if name in SKIPPED_LABELS:
            continue
        gt = {v: gttubes[v][label] for v in videos if len(gttubes[v].get(label, ()))}
        num_gt = sum(len(g) for g in gt.values())
        if not num_gt:
            continue
        dets = tubes.get(label, [])
        matches = []  # (ground-truth key, best tube index, its IoU) in rank order; matching is per threshold
        for j in np.argsort(-np.array([score for _, score, _ in dets])):
            video, _, tube = dets[j]
            if video in gt:
                ious = [tube_iou(g, tube) for g in gt[video]]
                best = int(np.argmax(ious))
                matches.append((video, best, ious[best]))
            else:
                matches.append(None)
        for t, thr in enumerate(thresholds):
            taken: dict = {}
            tp = np.zeros(len(matches), dtype=bool)
            for rank, m in enumerate(matches):
                if m is not None:
                    used = taken.setdefault(m[0], np.zeros(len(gt[m[0]]), dtype=bool))
                    if m[2] >= thr and not used[m[1]]:
                        tp[rank] = used[m[1]] = True
            aps[t][name] = voc_ap(tp, num_gt) * 100
    return aps


def mean_ap(aps: dict) -> float:
    """Mean of the class APs (NaN without any, as mmaction2's np.mean of nothing)."""
    with np.errstate(all='ignore'):
        return np.mean(np.array(list(aps.values()))) if aps else np.float64('nan')


# videoAP_all's groups: (key, thresholds), each the mean of its video APs
ALL_THRESHOLDS = (('v_map_0.05:0.45', [0.05 + 0.05 * i for i in range(9)]),
                  ('v_map_0.10:0.90', [0.1 + 0.1 * i for i in range(9)]),
                  ('v_map_0.50:0.95', [0.5 + 0.05 * i for i in range(10)]))
