"""MultiSportsMetric: mmaction2's frame mAP and video mAP over linked tubes, on GT pickles of the real format."""
import collections
import pickle

import numpy as np
import pytest
import torch

from resbackbones.evaluation import MultiSportsMetric
from resbackbones.evaluation.multisports_ap import link_class
from resbackbones.registry import METRICS

from .multisports_reference import metrics as reference_metrics

H, W = 64, 128  # boxes below are exact in float32 after scaling
BOX = [16, 8, 64, 40]  # pixels: x1, y1, x2, y2
FAR = [96, 40, 128, 64]


def gt_file(tmp_path, tubes, labels=('kick', 'jump', 'basketball save'), nframes=20, name='gt.pkl', **extra):
    """mmaction2's multisports_GT.pkl form: tubes {video: {label: [(n, 5) float32 frame, x1, y1, x2, y2]}}."""
    videos = list(tubes)
    gt = dict(labels=list(labels), train_videos=[[]], test_videos=[videos], nframes={v: nframes for v in videos},
              resolution={v: (H, W) for v in videos},
              gttubes={v: {lab: [np.array(t, dtype=np.float32) for t in ts] for lab, ts in tubes[v].items()}
                       for v in videos})
    gt.update(extra)
    path = tmp_path / name
    with open(path, 'wb') as f:
        pickle.dump(gt, f)
    return str(path), gt


def tube(first, last, box=BOX):
    return [[f, *box] for f in range(first, last + 1)]


def sample(video, frame, boxes, scores):
    """One frame's prediction: pixel boxes normalised as the model gives them, scores (P, classes)."""
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4) / [W, H, W, H]
    return dict(video_id=f'{video}.mp4', timestamp=frame, pred_instances=dict(
        bboxes=torch.tensor(boxes, dtype=torch.float32), scores=torch.tensor(scores, dtype=torch.float32)))


def hot(label, score=0.8, classes=3):
    row = [(1 - score) / (classes - 1)] * classes
    row[label] = score
    return row


def evaluate(ann_file, samples, **kwargs):
    metric = MultiSportsMetric(ann_file, verbose=False, **kwargs)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def test_frame_ap_by_hand(tmp_path):
    """Class 0: 2 GT boxes; ranked: miss (0.9), hit (0.8), duplicate of the hit (0.7) -> AP = 0.5 * 0.5. Class 1:
    one GT box, hit -> 100. 'basketball save' is not scored (mmaction2 skips six classes)."""
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(1, 2)], 1: [tube(5, 5)], 2: [tube(1, 1)]}})
    samples = [sample('a', 1, [FAR, BOX, BOX], [hot(0, 0.9), hot(0, 0.8), hot(0, 0.7)]),
               sample('a', 5, [BOX], [hot(1)]), sample('a', 1, [FAR], [hot(2)])]
    assert evaluate(ann, samples)['frameAP'] == (25.0 + 100.0) / 2
    # a box of the wrong class counts for the class it scores best
    samples[1] = sample('a', 5, [BOX], [hot(0)])
    assert evaluate(ann, samples)['frameAP'] == pytest.approx((0.5 * 0.5 * 100 + 0) / 2)


def test_frame_ap_threshold_and_best_match_only(tmp_path):
    """A detection takes its highest-IoU GT box or nothing: a second detection on the same best box is a false
    positive even if another GT box of the frame is free (IoU 0.5 of a half box passes at thr 0.5, not 0.6)."""
    half = [16, 8, 40, 40]
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(3, 3), tube(3, 3, FAR)]}})
    samples = [sample('a', 3, [half, half], [hot(0, 0.9), hot(0, 0.8)])]
    assert evaluate(ann, samples)['frameAP'] == 50.0  # hit then duplicate: precision 1 at recall 0.5
    opts = dict(F_mAP=dict(thr=0.6), V_mAP=dict(thr=(0.5,), all=False, tube_thr=15))
    assert evaluate(ann, samples, metric_options=opts) == {'frameAP': 0.0, 'v_map@0.5': 0.0}


def test_linked_tube_temporal_iou(tmp_path):
    """Boxes on frames 1..10 link into one tube; against a GT tube on 1..20 its IoU is 1 * (10-1)/(20-1) = 0.4737:
    matched at 0.2 and every 0.05..0.45 threshold, at 4 of 0.1..0.9, at none of 0.5..0.95."""
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(1, 20)]}})
    samples = [sample('a', f, [BOX, FAR], [hot(0, 0.9), hot(1)]) for f in range(1, 11)]
    out = evaluate(ann, samples, metric_options=dict(F_mAP=dict(thr=0.5),
                                                     V_mAP=dict(thr=(0.2, 0.5), all=True, tube_thr=10)))
    assert out == {'frameAP': 50.0, 'v_map@0.2': 100.0, 'v_map@0.5': 0.0, 'v_map_0.05:0.45': 100.0,
                   'v_map_0.10:0.90': round(400 / 9, 4), 'v_map_0.50:0.95': 0.0}
    # tubes shorter than tube_thr (default 15 frames) are dropped
    assert evaluate(ann, samples)['v_map@0.2'] == 0.0


def test_link_class_known_tubes():
    """Two players, one moving off at frame 4 (IoU < 0.5 with its last box): its tube ends at 3 and a new one
    starts; the other links 1..6. The best-scored box of IoU >= 0.5 extends the best-scoring live tube."""
    a, b, b_moved = [0, 0, 10, 10], [20, 20, 30, 30], [26, 26, 36, 36]
    frames = {f: np.array([[*a, 0.9], [*(b if f < 4 else b_moved), 0.6]]) for f in range(1, 7)}
    tubes = link_class(frames, nframes=6, len_thr=1)
    spans = sorted((int(t[0, 0]), int(t[-1, 0]), round(float(s), 3)) for s, t in tubes)
    assert spans == [(1, 3, 0.6), (1, 6, 0.9), (4, 6, 0.6)]
    assert tubes[0][1].dtype == np.float32 and tubes[0][1].shape[1] == 6
    assert not link_class({1: frames[1]}, nframes=6, len_thr=2)  # one-frame tubes, shorter than 2


def test_link_scores_mmaction2_quirk(tmp_path):
    """mmaction2 links every box with the last detection's score: tubes tie, ranked in video order. A false tube of
    video 'a' (listed first) then outranks the true one of 'b' (AP 50); with each box's own score it does not."""
    ann, _ = gt_file(tmp_path, {'a': {}, 'b': {0: [tube(1, 20)]}})
    samples = [sample(v, f, [BOX], [hot(0, s)]) for f in range(1, 21) for v, s in (('a', 0.5), ('b', 0.9))]
    assert evaluate(ann, samples)['v_map@0.5'] == 50.0
    assert evaluate(ann, samples, link_scores='own')['v_map@0.5'] == 100.0


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('own', [False, True])
def test_matches_plain_loop_reference(tmp_path, seed, own):
    """Random tubes, jittered and false boxes, softmax scores: the same numbers as mmaction2's steps in loops."""
    rng = np.random.default_rng(seed)
    labels, nframes = ('kick', 'jump', 'pass', 'basketball save'), 30
    tubes = {}
    for v in ('v0', 'v1', 'v2'):
        tubes[v] = {}
        for _ in range(rng.integers(1, 4)):
            first = int(rng.integers(1, 12))
            last = int(rng.integers(first + 5, nframes + 1))
            xy = rng.uniform(0, [W - 40, H - 30])
            drift = rng.normal(0, 0.8, (last - first + 1, 2)).cumsum(0)
            rows = [[f, *(xy + d), *(xy + d + [40, 30])] for f, d in zip(range(first, last + 1), drift)]
            tubes[v].setdefault(int(rng.integers(len(labels))), []).append(np.round(rows, 1))
    ann, gt = gt_file(tmp_path, tubes, labels=labels, nframes=nframes)
    samples = []
    for v in ('v0', 'v1', 'v2'):
        for f in range(1, nframes + 1):
            true = [(t[f - int(t[0][0])][1:5] + rng.normal(0, 2, 4), lab) for lab, ts in tubes[v].items()
                    for t in ts if t[0][0] <= f <= t[-1][0] and rng.random() < 0.9]
            boxes = [b for b, _ in true] + [rng.uniform(0, 60, 2).tolist() + rng.uniform(70, 120, 2).tolist()
                                            for _ in range(rng.integers(0, 3))]
            logits = rng.normal(0, 2, (len(boxes), len(labels)))
            logits[np.arange(len(true)), [lab for _, lab in true]] += 3  # mostly the right class
            scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            samples.append(sample(v, f, np.clip(np.reshape(boxes, (-1, 4)), 0, [W, H, W, H]), scores))
    opts = dict(F_mAP=dict(thr=0.5), V_mAP=dict(thr=(0.2, 0.5), all=True, tube_thr=5))
    got = evaluate(ann, samples, metric_options=opts, link_scores='own' if own else 'mmaction2')
    want = reference_metrics(gt, samples, len_thr=5, own_scores=own)
    assert got == {k: float(v) for k, v in want.items()}
    assert got['v_map@0.2'] > 0 and got['frameAP'] > 0


def test_registry_and_prefix(tmp_path):
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(1, 2)]}})
    metric = METRICS.build(dict(type='MultiSportsMetric', ann_file=ann, verbose=False))
    metric.process(None, [sample('a', 1, [BOX], [hot(0)])])
    assert set(metric.evaluate(1)) == {'mAP/frameAP', 'mAP/v_map@0.2', 'mAP/v_map@0.5', 'mAP/v_map_0.05:0.45',
                                       'mAP/v_map_0.10:0.90', 'mAP/v_map_0.50:0.95'}


def test_inputs_not_mutated(tmp_path):
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(1, 2)]}})
    s = sample('a', 1, [BOX], [hot(0)])
    before = s['pred_instances']['bboxes'].clone()
    evaluate(ann, [s])
    assert torch.equal(s['pred_instances']['bboxes'], before)


def test_errors(tmp_path):
    ann, _ = gt_file(tmp_path, {'a': {0: [tube(1, 2)]}})
    metric = MultiSportsMetric(ann, verbose=False)
    with pytest.raises(ValueError, match=r"'zz'.*not among the test videos.*gt\.pkl"):
        metric.process(None, [sample('zz', 1, [BOX], [hot(0)])])
    with pytest.raises(ValueError, match=r"'scores'\] of video 'a'.*\(1, 3\)"):
        metric.process(None, [sample('a', 1, [BOX], [[0.5, 0.5]])])
    bad = sample('a', 1, [BOX], [hot(0)])
    bad['pred_instances']['bboxes'] = bad['pred_instances']['bboxes'][:, :3]
    with pytest.raises(ValueError, match=r"'bboxes'\] of video 'a'.*\(P, 4\)"):
        metric.process(None, [bad])
    metric.process(None, [sample('a', 21, [BOX], [hot(0)])])
    with pytest.raises(ValueError, match=r"'a' has predictions at frames 21.*1\.\.20"):
        metric.compute_metrics(metric.results)
    with pytest.raises(ValueError, match='metric_options'):
        MultiSportsMetric(ann, metric_options=dict(F_mAP=dict(thr=0.5)))
    missing, _ = gt_file(tmp_path, {'a': {}}, name='nores.pkl')
    data = pickle.load(open(missing, 'rb'))
    del data['resolution']
    pickle.dump(data, open(missing, 'wb'))
    with pytest.raises(ValueError, match=r"nores\.pkl lacks \['resolution'\]"):
        MultiSportsMetric(missing)
    hostile, _ = gt_file(tmp_path, {'a': {}}, name='hostile.pkl', extra=collections.OrderedDict())
    with pytest.raises(ValueError, match=r'hostile\.pkl: refused to unpickle collections\.OrderedDict'):
        MultiSportsMetric(hostile)
    notest, _ = gt_file(tmp_path, {'a': {}}, name='notube.pkl')
    data = pickle.load(open(notest, 'rb'))
    data['gttubes'] = {}
    pickle.dump(data, open(notest, 'wb'))
    with pytest.raises(ValueError, match=r"notube\.pkl: 'gttubes' has no dict.*'a'"):
        MultiSportsMetric(notest)
