"""A plain-loop AVA frame-AP reference, step by step as mmaction2 does it (bbox2result, the 4-decimal result csv,
ActivityNet's read_csv / tpfp / TF-evaluator precision-recall and VOC AP), to check AVAMetric's vectorized path.

Inputs are already-parsed rows; it shares no code with resbackbones.
"""
import numpy as np


def key(video_id, timestamp):
    return f'{video_id},{int(timestamp):04d}'


def prediction_rows(samples, num_classes, thr, column_ids=None):
    """bbox2result + det2csv + the csv's '%.4f' round trip: (key, x1, y1, x2, y2, class id, score) rows."""
    rows = []
    for s in samples:
        boxes = np.asarray(s['pred_instances']['bboxes'])
        scores = np.asarray(s['pred_instances']['scores'])
        for c in range(num_classes - 1):
            for b in range(len(boxes)):
                if thr >= 0:
                    keep = scores[b, c + 1] > thr
                else:
                    keep = int(np.argmax(scores[b, 1:])) == c
                if keep:
                    values = [float(f'{float(v):.4f}') for v in list(boxes[b]) + [scores[b, c + 1]]]
                    label = column_ids[c] if column_ids else c + 1
                    rows.append((key(s['video_id'], s['timestamp']), *values[:4], label, values[4]))
    return rows


def group(rows, whitelist):
    """read_csv: per frame, [(score, label, (y1, x1, y2, x2))] of whitelisted classes, best score first."""
    frames = {}
    for k, x1, y1, x2, y2, label, score in rows:
        if label in whitelist:
            frames.setdefault(k, []).append((score, label, (y1, x1, y2, x2)))
    return {k: sorted(v, key=lambda e: -e[0]) for k, v in frames.items()}


def iou_matrix(a, b):
    """np_box_ops.iou on float32 [y1, x1, y2, x2] boxes."""
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            h = max(0.0, float(min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0])))
            w = max(0.0, float(min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1])))
            area_a = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1])
            area_b = (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])
            out[i, j] = h * w / (float(area_a + area_b) - h * w)
    return out


def ap_from(scores, tp, num_gt):
    """compute_precision_recall + compute_average_precision with the evaluator's loops."""
    if num_gt == 0:
        return float('nan')
    order = np.argsort(scores)[::-1]
    tp = tp[order].astype(int)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    recall = np.cumsum(tp) / num_gt
    recall = np.concatenate([[0], recall, [1]])
    precision = np.concatenate([[0], precision, [0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return float(sum((recall[i] - recall[i - 1]) * precision[i] for i in range(1, len(recall))
                     if recall[i] != recall[i - 1]))


def reference_class_aps(gt_rows, pred_rows, whitelist, excluded=()):
    """{class id: AP} of the classes with a detection in an evaluated (annotated, not excluded) frame."""
    gt, det = group(gt_rows, whitelist), group(pred_rows, whitelist)
    num_gt = {}
    for entries in gt.values():
        for _, label, _ in entries:
            num_gt[label] = num_gt.get(label, 0) + 1
    scores, tps = {}, {}
    for k, gt_entries in gt.items():
        if k in excluded:
            continue
        dets = det.get(k, [])
        for label in sorted({e[1] for e in dets}):
            d = [e for e in dets if e[1] == label]
            g = np.array([e[2] for e in gt_entries if e[1] == label], dtype=np.float32).reshape(-1, 4)
            boxes = np.array([e[2] for e in d], dtype=np.float32).reshape(-1, 4)
            tp = np.zeros(len(d), dtype=bool)
            if len(g):
                iou = iou_matrix(boxes, g)
                taken = set()
                for i in range(len(d)):
                    j = int(np.argmax(iou[i]))
                    if iou[i, j] >= 0.5 and j not in taken:
                        tp[i] = True
                        taken.add(j)
            scores.setdefault(label, []).append(np.array([e[0] for e in d], dtype=np.float32))
            tps.setdefault(label, []).append(tp)
    return {c: ap_from(np.concatenate(scores[c]), np.concatenate(tps[c]), num_gt.get(c, 0)) for c in scores}
