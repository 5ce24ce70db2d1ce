"""AVAMetric: frame AP@0.5IoU of AVA action detections with mmaction2's selection, rounding and arithmetic."""
import os

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement, InstanceData

from resbackbones.evaluation import AVAMetric
from resbackbones.evaluation.ava_metric import round4
from resbackbones.registry import METRICS

from .ava_reference import key, prediction_rows, reference_class_aps

FULL = [0.0, 0.0, 1.0, 1.0]
LEFT = [0.0, 0.0, 0.5, 1.0]


def write(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


@pytest.fixture
def files(tmp_path):
    """Label map with classes 1, 2, 5, 9, 70 and a writer for annotation / exclusion files."""
    labels = write(tmp_path / 'labels.pbtxt', [f'item {{\n  name: "action {c}"\n  id: {c}\n}}'
                                               for c in (1, 2, 5, 9, 70)])

    def make(gt, excluded=None):
        ann = write(tmp_path / 'gt.csv', [','.join(map(str, row)) for row in gt])
        excl = write(tmp_path / 'excl.csv', excluded) if excluded is not None else None
        return dict(ann_file=ann, exclude_file=excl, label_file=labels)
    return make


def gt(video, ts, box, label, person=0):
    return (video, f'{ts:04d}', *box, label, person)


def sample(video, ts, boxes, scores):
    return dict(video_id=video, timestamp=ts, pred_instances=dict(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32).reshape(len(boxes), -1)))


def one_hot(score, column, num_classes=3):
    row = [0.0] * num_classes
    row[column] = score
    return row


def evaluate(metric, samples):
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def test_one_class_known_ap(files):
    cfg = files([gt('a', 1, LEFT, 1), gt('b', 1, LEFT, 1)])
    preds = [sample('a', 1, [LEFT, [0.6, 0, 1, 1]], [one_hot(0.9, 1), one_hot(0.8, 1)]),  # TP 0.9, FP 0.8
             sample('b', 1, [LEFT], [one_hot(0.7, 1)])]  # TP 0.7
    metric = AVAMetric(**cfg, num_classes=3)
    out = evaluate(metric, preds)
    # ranked TP, FP, TP of 2 boxes: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3
    assert metric.class_aps == {1: pytest.approx(5 / 6)}
    assert out['overall'] == pytest.approx(5 / 6) and out['person_movement'] == pytest.approx(5 / 6)
    assert np.isnan(out['object_manipulation']) and np.isnan(out['person_interaction'])


@pytest.mark.parametrize('x2, ap', [(0.2502, 1.0), (0.25, 1.0), (0.2498, 0.0)])
def test_iou_threshold_is_half_inclusive(files, x2, ap):
    cfg = files([gt('a', 1, LEFT, 1)])  # area 0.5; [0, 0, x2, 1] inside it has IoU 2 * x2
    metric = AVAMetric(**cfg, num_classes=3)
    evaluate(metric, [sample('a', 1, [[0, 0, x2, 1]], [one_hot(0.9, 1)])])
    assert metric.class_aps == {1: ap}


def test_a_box_is_matched_once_and_duplicates_are_false_positives(files):
    cfg = files([gt('a', 1, LEFT, 1), gt('a', 1, [0.5, 0, 1, 1], 1, 1)])
    # both detections overlap the left box best; the second is a false positive although the right box is free
    preds = [sample('a', 1, [LEFT, [0, 0, 0.6, 1]], [one_hot(0.9, 1), one_hot(0.8, 1)])]
    metric = AVAMetric(**cfg, num_classes=3)
    evaluate(metric, preds)
    assert metric.class_aps == {1: pytest.approx(0.5)}


def test_exclusions_drop_frames_but_their_boxes_still_count(files):
    rows = [gt('a', 1, LEFT, 1), gt('b', 2, FULL, 2)]
    preds = [sample('a', 1, [LEFT], [one_hot(0.5, 1)]), sample('b', 2, [LEFT], [one_hot(0.9, 1)])]  # 'b' 0.9: FP
    assert evaluate(AVAMetric(**files(rows), num_classes=3), preds)['overall'] == pytest.approx(0.5)
    assert evaluate(AVAMetric(**files(rows, ['b,2']), num_classes=3), preds)['overall'] == pytest.approx(1.0)
    # mmaction2 counts an excluded frame's boxes in recall's denominator: one of two boxes found
    out = evaluate(AVAMetric(**files(rows + [gt('c', 3, LEFT, 1)], ['b,0002', 'c,3']), num_classes=3), preds)
    assert out['overall'] == pytest.approx(0.5)


def test_frames_without_scored_ground_truth_are_ignored(files):
    rows = [gt('a', 1, LEFT, 1), gt('b', 1, LEFT, 3)]  # class 3 is not in the label map: 'b' has no ground truth
    preds = [sample('a', 1, [LEFT], [one_hot(0.5, 1)]), sample('b', 1, [LEFT], [one_hot(0.9, 1)]),
             sample('unannotated', 7, [LEFT], [one_hot(0.9, 1)])]
    metric = AVAMetric(**files(rows), num_classes=4)
    out = evaluate(metric, [dict(p, pred_instances=dict(p['pred_instances'], scores=torch.nn.functional.pad(
        p['pred_instances']['scores'], (0, 1)))) for p in preds])
    assert metric.class_aps == {1: 1.0} and out['overall'] == 1.0


def test_custom_classes_map_columns_to_ids(files):
    cfg = files([gt('a', 1, LEFT, 5), gt('a', 1, FULL, 9, 1), gt('a', 1, FULL, 1, 1)])
    preds = [sample('a', 1, [LEFT, FULL], [[0, 0.9, 0.1], [0, 0.8, 0.7]])]
    metric = AVAMetric(**cfg, num_classes=3, custom_classes=[5, 9])
    out = evaluate(metric, preds)
    # class 5: LEFT 0.9 TP, FULL 0.8 FP -> 1; class 9: FULL 0.7 TP, LEFT 0.1 FP -> 1; class 1 is not scored
    assert metric.class_aps == {5: 1.0, 9: 1.0}
    assert out['overall'] == 1.0 and out['person_movement'] == 1.0 and np.isnan(out['object_manipulation'])
    with pytest.raises(ValueError, match=r'custom_classes \[4\] are not in label_file'):
        evaluate(AVAMetric(**cfg, num_classes=3, custom_classes=[4, 9]), preds)


def test_action_thr_drops_boxes_at_or_below_it(files):
    cfg = files([gt('a', 1, LEFT, 1), gt('a', 1, [0.6, 0, 1, 1], 1, 1)])
    # LEFT 0.9 TP, a box between the two 0.5 FP, the right box 0.3 TP
    preds = [sample('a', 1, [LEFT, [0.45, 0, 0.55, 1], [0.6, 0, 1, 1]],
                    [one_hot(0.9, 1), one_hot(0.5, 1), one_hot(0.3, 1)])]
    for thr, ap, kept in ((0.29, 5 / 6, 3), (0.3, 0.5, 2), (0.5, 0.5, 1), (0.95, None, 0)):
        metric = AVAMetric(**cfg, num_classes=3, action_thr=thr)  # a score equal to action_thr is dropped
        out = evaluate(metric, preds)
        assert len(metric.results[0]['labels']) == kept
        assert metric.class_aps == ({1: pytest.approx(ap)} if ap else {})
    assert np.isnan(out['overall'])  # no detection left: NaN, as mmaction2


@pytest.mark.parametrize('thr', [-1.0, [-1, -1, -1]])
def test_negative_action_thr_keeps_each_box_for_its_best_class(files, thr):
    metric = AVAMetric(**files([gt('a', 1, LEFT, 1)]), num_classes=3, action_thr=thr)
    metric.process(None, [sample('a', 1, [LEFT, FULL], [[0.9, 0.001, 0.002], [0, 0.6, 0.5]])])
    assert metric.results[0]['labels'].tolist() == [1, 2] and metric.results[0]['box'].tolist() == [1, 0]


def test_action_thr_per_column_mixes_the_two_rules(files):
    """mmaction2's bbox2result decides per column: a negative entry keeps the boxes whose best class it is, the
    others compare (a sequence kept every box for a negative entry: false positives)."""
    metric = AVAMetric(**files([gt('a', 1, LEFT, 1)]), num_classes=3, action_thr=[0, -1, 0.55])
    metric.process(None, [sample('a', 1, [LEFT, FULL], [[0, 0.001, 0.002], [0, 0.6, 0.5]])])
    # column 1 (best-only): the FULL box (0.6 > 0.5); column 2 (> 0.55): none; LEFT's best is column 2
    assert metric.results[0]['labels'].tolist() == [1] and metric.results[0]['box'].tolist() == [1]


def test_rounding_is_that_of_the_result_csv(files, tmp_path, monkeypatch):
    values = np.array([0.03125, 0.09375, 0.00204, 0.123456, 0.99995, 1e-5, 0.5], dtype=np.float32)
    values = np.concatenate([values, np.random.default_rng(0).random(2000).astype(np.float32)])
    assert (round4(values) / 1e4).tolist() == [float(f'{v:.4f}') for v in values.tolist()]  # 0.03125 -> 0.0312
    assert (round4(values.astype(np.float64)) / 1e4).tolist() == [float(f'{v:.4f}') for v in values.tolist()]
    monkeypatch.chdir(tmp_path)
    out_file = tmp_path / 'out' / 'result.csv'  # a new folder: the error named a temporary file in it, at the end
    metric = AVAMetric(**files([gt('v', 902, LEFT, 1)]), num_classes=3, out_file=str(out_file))
    evaluate(metric, [sample('v', 902, [[0.123456, 0, 0.5, 1], LEFT], [[0, 0.00204, 0.9], [0, 0.001, 0.03125]])])
    assert out_file.read_text() == ('v,902,0.1235,0.0000,0.5000,1.0000,1,0.0020\n'
                                    'v,902,0.1235,0.0000,0.5000,1.0000,2,0.9000\n'
                                    'v,902,0.0000,0.0000,0.5000,1.0000,2,0.0312\n')
    # no temporary file is left, neither beside the csv nor in the working folder (mmaction2 writes AVA_*.csv there)
    assert os.listdir(out_file.parent) == ['result.csv']
    assert sorted(os.listdir(tmp_path)) == ['gt.csv', 'labels.pbtxt', 'out']


def test_matches_the_loop_reference_on_random_frames(files):
    rng = np.random.default_rng(3)
    label_ids, num_classes = [1, 2, 5, 9, 70], 81
    rows, samples, excluded = [], [], []
    for f in range(40):
        video, ts = f'v{f % 4}', 900 + f
        boxes = []
        for p in range(rng.integers(1, 4)):
            x1, y1 = rng.uniform(0, 0.5, 2)
            boxes.append([x1, y1, x1 + rng.uniform(0.1, 0.5), y1 + rng.uniform(0.1, 0.5)])
            for c in rng.choice([1, 2, 3, 5, 9, 70], size=2, replace=False):
                rows.append(gt(video, ts, [round(v, 3) for v in boxes[-1]], c, p))
        if f % 9 == 0:
            excluded.append(f'{video},{ts}')
        pred = np.clip(np.array(boxes) + rng.normal(0, 0.05, (len(boxes), 4)), 0, 1)
        pred = np.concatenate([np.minimum(pred[:, :2], pred[:, 2:]), np.maximum(pred[:, :2], pred[:, 2:])], 1)
        scores = np.round(rng.random((len(pred), num_classes)) ** 2, 2)  # many ties
        samples.append(dict(video_id=video, timestamp=ts, pred_instances=dict(
            bboxes=torch.tensor(pred, dtype=torch.float32), scores=torch.tensor(scores, dtype=torch.float32))))
    metric = AVAMetric(**files(rows, excluded), num_classes=num_classes)
    out = evaluate(metric, samples)
    numpy_samples = [dict(s, pred_instances={k: v.numpy() for k, v in s['pred_instances'].items()}) for s in samples]
    reference = reference_class_aps([(f'{r[0]},{r[1]}', *r[2:]) for r in rows],
                                    prediction_rows(numpy_samples, num_classes, 0.002), set(label_ids),
                                    {key(*e.split(',')) for e in excluded})
    assert sorted(metric.class_aps) == sorted(reference) == label_ids
    assert 0.1 < out['overall'] < 0.9
    for c in label_ids:
        assert metric.class_aps[c] == pytest.approx(reference[c], abs=1e-12)
    assert out['overall'] == pytest.approx(np.mean(list(reference.values())), abs=1e-12)


def test_evaluator_reports_prefixed_keys_from_data_elements(files):
    metric = METRICS.build(dict(type='AVAMetric', **files([gt('a', 1, LEFT, 70)])))
    evaluator = Evaluator(metric)
    scores = torch.zeros(1, 81)
    scores[0, 70] = 0.9
    element = BaseDataElement(video_id='a', timestamp=1, pred_instances=InstanceData(
        bboxes=torch.tensor([LEFT]), scores=scores))
    evaluator.process([element])
    out = evaluator.evaluate(1)
    assert set(out) == {'mAP/overall', 'mAP/person_movement', 'mAP/object_manipulation', 'mAP/person_interaction'}
    assert out['mAP/overall'] == 1.0 and out['mAP/person_interaction'] == 1.0


@pytest.mark.parametrize('line, message', [
    ('a,0001,0,0,1,1', r'gt.csv line 2: expected 7 or 8 columns'),
    ('a,0001,0,0,1,one,1', r'gt.csv line 2: timestamp and action_id must be integers'),
    ('a,0001,0.5,0,0.2,1,1', r'gt.csv line 2: box needs x1 <= x2'),
])
def test_malformed_annotation_lines_are_named(files, tmp_path, line, message):
    cfg = files([gt('a', 1, LEFT, 1)])
    with open(cfg['ann_file'], 'a') as f:
        f.write(line + '\n')
    with pytest.raises(ValueError, match=message):
        evaluate(AVAMetric(**cfg, num_classes=3), [sample('a', 1, [LEFT], [one_hot(0.9, 1)])])


def test_missing_files_and_empty_ground_truth(files, tmp_path):
    preds = [sample('a', 1, [LEFT], [one_hot(0.9, 1)])]
    cfg = files([gt('a', 1, LEFT, 1)])
    with pytest.raises(FileNotFoundError, match='nope.pbtxt'):
        evaluate(AVAMetric(**dict(cfg, label_file=str(tmp_path / 'nope.pbtxt')), num_classes=3), preds)
    with pytest.raises(FileNotFoundError, match='cannot read exclude_file'):
        evaluate(AVAMetric(**dict(cfg, exclude_file=str(tmp_path / 'nope.csv')), num_classes=3), preds)
    with pytest.raises(ValueError, match='has no boxes of the 5 classes'):
        evaluate(AVAMetric(**files([gt('a', 1, LEFT, 3)]), num_classes=3), preds)
    with pytest.raises(ValueError, match='no predictions were processed'):
        evaluate(AVAMetric(**cfg, num_classes=3), [])


@pytest.mark.parametrize('kwargs, pred, message', [
    (dict(options=('mAP', 'recall')), None, r"options must be \('mAP',\)"),
    (dict(custom_classes=[1, 2, 3]), None, 'custom_classes must be 2 positive class ids'),
    (dict(custom_classes=[1, 1]), None, r'custom_classes repeats ids \[1\]'),  # the copy scored as false positives
    (dict(action_thr=[0.1, 0.2]), None, 'action_thr must be a number or 3 numbers'),
    (dict(), dict(bboxes=torch.zeros(2, 5), scores=torch.zeros(2, 3)), r"'bboxes'.*\(P, 4\).*\(2, 5\)"),
    (dict(), dict(bboxes=torch.zeros(2, 4), scores=torch.zeros(2, 81)), r"'scores'.*\(2, 3\) array; got .*\(2, 81\)"),
    (dict(), dict(bboxes=torch.zeros(1, 4)), "'pred_instances' with 'bboxes' and 'scores'"),
    (dict(), dict(bboxes=torch.tensor([[0.5, 0, 0.2, 1]]), scores=torch.ones(1, 3)), 'needs x1 <= x2'),
    (dict(), dict(bboxes=torch.zeros(1, 4), scores=torch.tensor([[0, float('nan'), 0]])), 'NaN or infinite'),
])
def test_bad_arguments_and_predictions(files, kwargs, pred, message):
    with pytest.raises(ValueError, match=message):
        metric = AVAMetric(**files([gt('a', 1, LEFT, 1)]), **dict(dict(num_classes=3), **kwargs))
        metric.process(None, [dict(video_id='a', timestamp=1, pred_instances=pred)])
