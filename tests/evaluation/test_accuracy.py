"""Accuracy: top-k percentages over ImageClassifier 'predict' outputs, with clear errors for bad input."""
from __future__ import annotations

import pytest
import torch

from resbackbones.evaluation import Accuracy, topk_accuracy
from resbackbones.registry import METRICS, MODELS

# 4 samples over 3 classes; the label's rank in each row is 1, 2, 3, 1
SCORES = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
LABELS = [0, 1, 2, 2]


@pytest.mark.parametrize('topk, expected', [((1,), {'accuracy/top1': 50.0}),
                                            ((1, 2), {'accuracy/top1': 50.0, 'accuracy/top2': 75.0}),
                                            (3, {'accuracy/top3': 100.0})])
def test_known_values_through_evaluate(topk, expected):
    metric = METRICS.build(dict(type='Accuracy', topk=topk))
    preds = [dict(pred_label=int(s.argmax()), pred_score=s, gt_label=label) for s, label in zip(SCORES, LABELS)]
    metric.process(None, preds[:3])
    metric.process(None, preds[3:])
    assert metric.evaluate(size=4) == pytest.approx(expected)


def test_topk_accuracy_function():
    assert topk_accuracy(SCORES, torch.tensor(LABELS), (1, 2, 3)) == pytest.approx({1: 50.0, 2: 75.0, 3: 100.0})


def test_consumes_classifier_predictions():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ImageClassifier', num_classes=3, backbone=dict(
        type='ResNet', depth=18, in_channels=1, base_channels=4, small_stem=True, out_indices=(3,))))
    model.eval()
    labels = [dict(gt_label=i % 3) for i in range(4)]
    with torch.no_grad():
        preds = model(torch.randn(4, 1, 8, 8), labels, mode='predict')
    metric = Accuracy(topk=(1, 3))
    metric.process(None, preds)
    result = metric.evaluate(size=4)
    correct = sum(p['pred_label'] == p['gt_label'] for p in preds)
    assert result['accuracy/top1'] == pytest.approx(100.0 * correct / 4)
    assert result['accuracy/top3'] == 100.0


@pytest.mark.parametrize('topk', [(), (0,), (1, 'five'), 1.5, (True,)])
def test_bad_topk(topk):
    with pytest.raises(ValueError, match='topk must be positive integers'):
        Accuracy(topk=topk)


@pytest.mark.parametrize('label', [3, -1])
def test_a_label_outside_the_classes_is_named(label):
    """It was counted as a miss, lowering accuracy silently."""
    metric = Accuracy(topk=(1,))
    metric.process(None, [dict(pred_score=SCORES[0], gt_label=0), dict(pred_score=SCORES[0], gt_label=label)])
    with pytest.raises(ValueError, match=f'Accuracy: ground-truth label {label} is outside the 3 classes'):
        metric.evaluate(size=2)


def test_k_larger_than_classes():
    metric = Accuracy(topk=(1, 5))
    metric.process(None, [dict(pred_score=SCORES[0], gt_label=0)])
    with pytest.raises(ValueError, match=r'topk \[5\] exceeds the number of classes \(3\)'):
        metric.evaluate(size=1)


@pytest.mark.parametrize('sample, message', [
    (dict(pred_score=SCORES[0]), "'gt_label'"), (dict(gt_label=0), "'pred_score'"), (3, 'got int'),
    # a bare 'only one element tensors can be converted to Python scalars'
    (dict(pred_score=SCORES[0], gt_label=torch.tensor([1, 0, 1])), r'gt_label of 3 values .*AccMetric'),
])
def test_bad_predictions(sample, message):
    with pytest.raises(ValueError, match=message):
        Accuracy().process(None, [sample])


def test_mixed_score_lengths():
    metric = Accuracy()
    metric.process(None, [dict(pred_score=SCORES[0], gt_label=0), dict(pred_score=torch.ones(5), gt_label=0)])
    with pytest.raises(ValueError, match=r'pred_score lengths differ between predictions \(\[3, 5\]\)'):
        metric.evaluate(size=2)


def test_tied_scores_rank_as_the_predicted_label():
    """With 20 equal scores pred_label (argmax) is class 0, while topk ranked class 12 first: a prediction shown as
    right was counted a miss."""
    import torch

    from resbackbones.evaluation.accuracy import topk_accuracy
    scores = torch.full((1, 20), 0.05)
    assert int(scores[0].argmax()) == 0
    assert topk_accuracy(scores, torch.tensor([0]), (1, 5)) == {1: 100.0, 5: 100.0}
    assert topk_accuracy(scores, torch.tensor([5]), (1, 5)) == {1: 0.0, 5: 0.0}  # ranks 0..4 only


def test_nan_scores_of_a_diverged_model_are_refused():
    # NaN ranked first under the stable sort: 10 classes of NaN read top-1 10%, top-5 50%
    metric = Accuracy(topk=(1, 5))
    metric.process(None, [dict(pred_score=torch.full((10,), float('nan')), gt_label=i) for i in range(10)])
    with pytest.raises(ValueError, match='10 of 10 predictions have NaN or inf in pred_score: the model has diverged'):
        metric.evaluate(size=10)
