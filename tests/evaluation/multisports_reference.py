"""A plain-loop MultiSports frame / video AP reference, step by step as mmaction2's ``MultiSportsMetric`` and
``multisports_utils`` (rows per box, frameAP, nms_tubelets, link_tubes, iou3dt_voc, videoAP, videoAP_all), to check
MultiSportsMetric's grouped path. Shares no code with resbackbones.
"""
import numpy as np

SKIPPED = ('aerobic kick jump', 'aerobic off axis jump', 'aerobic butterfly jump', 'aerobic balance turn',
           'basketball save', 'basketball jump ball')


def detection_rows(gt, samples):
    """[video index, frame, best class, score, x1, y1, x2, y2 in pixels] per box, in sample order."""
    videos, rows = gt['test_videos'][0], []
    for s in samples:
        video = s['video_id'].split('.mp4')[0]
        h, w = gt['resolution'][video]
        for box, score in zip(s['pred_instances']['bboxes'].numpy(), s['pred_instances']['scores'].numpy()):
            box = box.copy()
            box *= np.array([w, h, w, h])
            label = np.argmax(score)
            rows.append(np.array([videos.index(video), s['timestamp'], label, score[label], *box]))
    return np.array(rows)


def iou(b1, b2):
    """IoU of box b1 and box b2 (VOC, no +1)."""
    ov = max(0, min(b1[2], b2[2]) - max(b1[0], b2[0])) * max(0, min(b1[3], b2[3]) - max(b1[1], b2[1]))
    return ov / ((b1[2] - b1[0]) * (b1[3] - b1[1]) + (b2[2] - b2[0]) * (b2[3] - b2[1]) - ov)


def ap_of(tps, num_gt):
    """pr_to_ap_voc on the precision / recall of tps in rank order."""
    precision, recall, tp = [0.0], [0.0], 0
    for i, t in enumerate(tps):
        tp += t
        precision.append(float(tp) / float(i + 1))
        recall.append(float(tp) / float(num_gt))
    precision, recall = np.array(precision + [0.0]), np.array(recall + [1.0])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    steps = np.where(recall[1:] != recall[:-1])[0] + 1
    return np.sum((recall[steps] - recall[steps - 1]) * precision[steps])


def frame_map(gt, dets, thr):
    aps = []
    for label, name in enumerate(gt['labels']):
        if name in SKIPPED:
            continue
        boxes = {}
        for vi, v in enumerate(gt['test_videos'][0]):
            for tube in gt['gttubes'][v].get(label, []):
                for row in tube:
                    boxes.setdefault((vi, int(row[0])), []).append([float(c) for c in row[1:5]])
        num_gt = sum(len(b) for b in boxes.values())
        if num_gt == 0:
            continue
        mine = [d for d in dets if d[2] == label]
        order = np.argsort(-np.array([d[3] for d in mine]).reshape(-1))
        used, tps = {}, []
        for j in order:
            d, k, hit = mine[j], (int(mine[j][0]), int(mine[j][1])), False
            if k in boxes:
                ious = [iou(b, d[4:8]) for b in boxes[k]]
                best = int(np.argmax(ious))
                used.setdefault(k, [False] * len(ious))
                if ious[best] >= thr and not used[k][best]:
                    hit = used[k][best] = True
            tps.append(hit)
        aps.append(100 * ap_of(tps, num_gt))
    return np.mean(np.array(aps))


def nms_rescore(dets):
    """nms_tubelets(dets, 0.6, top_k=10) for single boxes, one box at a time."""
    if len(dets) == 0:
        return dets
    dets = dets.copy()
    area = [(d[2] - d[0] + 1) * (d[3] - d[1] + 1) for d in dets]
    order, weight = list(np.argsort(dets[:, -1])[::-1]), [1.0] * len(dets)
    while order:
        i, keep = order[0], []
        for j in order[1:]:
            w = max(0, min(dets[i, 2], dets[j, 2]) - max(dets[i, 0], dets[j, 0]) + 1)
            h = max(0, min(dets[i, 3], dets[j, 3]) - max(dets[i, 1], dets[j, 1]) + 1)
            o = w * h / (area[j] + area[i] - w * h)
            if o > 0.6:
                weight[j] = 1 - o
            elif o <= 0.6:
                keep.append(j)
        order = keep
    dets[:, -1] = dets[:, -1] * np.array(weight)
    return dets[np.argsort(dets[:, -1])[::-1]][:10]


def link(gt, dets, len_thr, own_scores):
    """link_tubes: {label: [(video, score, tube)]}."""
    videos, labels = gt['test_videos'][0], gt['labels']
    out = {label: [] for label in range(len(labels))}
    for vi, v in enumerate(videos):
        mine = [d for d in dets if int(d[0]) == vi]
        if not mine:
            continue
        for label in range(len(labels)):
            finished, current = [], []
            for frame in range(1, gt['nframes'][v] + 1):
                boxes = [[*d[4:8], d[3] if own_scores else dets[-1][3]] for d in mine
                         if int(d[1]) == frame and int(d[2]) == label]
                boxes = nms_rescore(np.array(boxes).reshape(-1, 5))
                if frame == 1:
                    current = [[(1, b)] for b in boxes]
                    continue
                means = [np.mean(np.array([b[-1] for _, b in t])) for t in current]
                current = [current[i] for i in np.argsort(-np.array(means))]
                ended = []
                for it, t in enumerate(current):
                    ious = [iou(b[:4], t[-1][1][:4]) for b in boxes]
                    valid = [i for i, o in enumerate(ious) if o >= 0.5]
                    if valid:
                        pick = valid[int(np.argmax([boxes[i][-1] for i in valid]))]
                        t.append((frame, boxes[pick]))
                        boxes = np.delete(boxes, pick, axis=0)
                    else:
                        ended.append(it)
                for it in ended[::-1]:
                    finished.append(current[it])
                    del current[it]
                current += [[(frame, b)] for b in boxes]
            for t in finished + current:
                score = np.mean(np.array([b[-1] for _, b in t]))
                if score < 0.005 or t[-1][0] + 1 - t[0][0] < len_thr:
                    continue
                tube = np.zeros((len(t), 6), dtype=np.float32)
                for i, (frame, b) in enumerate(t):
                    tube[i, 0] = frame
                    tube[i, 1:] = b
                out[label].append((v, score, tube))
    return out


def tube_iou(g, d):
    """iou3dt_voc(g, d)."""
    tmin, tmax = max(g[0, 0], d[0, 0]), min(g[-1, 0], d[-1, 0])
    if tmax < tmin:
        return 0.0
    a = g[int(np.where(g[:, 0] == tmin)[0][0]):int(np.where(g[:, 0] == tmax)[0][0]) + 1, 1:5]
    b = d[int(np.where(d[:, 0] == tmin)[0][0]):int(np.where(d[:, 0] == tmax)[0][0]) + 1, 1:5]
    ov = np.maximum(0, np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])) * np.maximum(
        0, np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]))
    spatial = np.mean(ov / ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
                            - ov))
    return spatial * ((tmax - tmin) / (max(g[-1, 0], d[-1, 0]) - min(g[0, 0], d[0, 0])))


def video_map(gt, tubes, thr):
    aps = []
    for label, name in enumerate(gt['labels']):
        if name in SKIPPED:
            continue
        gts = {v: gt['gttubes'][v][label] for v in gt['test_videos'][0] if len(gt['gttubes'][v].get(label, []))}
        num_gt = sum(len(g) for g in gts.values())
        if num_gt == 0:
            continue
        dets, used, tps = tubes[label], {}, []
        for j in np.argsort(-np.array([d[1] for d in dets])):
            v, _, tube = dets[j]
            hit = False
            if v in gts:
                ious = [tube_iou(g, tube) for g in gts[v]]
                best = int(np.argmax(ious))
                used.setdefault(v, [False] * len(ious))
                if ious[best] >= thr and not used[v][best]:
                    hit = used[v][best] = True
            tps.append(hit)
        aps.append(100 * ap_of(tps, num_gt))
    return np.mean(np.array(aps))


def metrics(gt, samples, frame_thr=0.5, video_thrs=(0.2, 0.5), len_thr=15, own_scores=False):
    """MultiSportsMetric's dict, unprefixed."""
    dets = detection_rows(gt, samples)
    out = {'frameAP': round(frame_map(gt, dets, frame_thr), 4)}
    tubes = link(gt, dets, len_thr, own_scores)
    for thr in video_thrs:
        out[f'v_map@{thr}'] = round(video_map(gt, tubes, thr), 4)
    for key, thrs in (('v_map_0.05:0.45', [0.05 + 0.05 * i for i in range(9)]),
                      ('v_map_0.10:0.90', [0.1 + 0.1 * i for i in range(9)]),
                      ('v_map_0.50:0.95', [0.5 + 0.05 * i for i in range(10)])):
        total = 0
        for thr in thrs:
            total += video_map(gt, tubes, thr)
        out[key] = round(total / float(len(thrs)), 4)
    return out
