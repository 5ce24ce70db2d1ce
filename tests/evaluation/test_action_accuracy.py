"""AccMetric: top-k and mean class accuracy per video, with several predictions of one video averaged."""
import pytest
import torch

from resbackbones.evaluation import AccMetric


def run(metric, preds):
    metric.process(None, preds)
    return metric.compute_metrics(metric.results)


def pred(scores, label, **extra):
    return dict(pred_score=torch.tensor(scores), gt_label=label, **extra)


def test_top_k_and_mean_class_accuracy():
    preds = [pred([0.7, 0.2, 0.1], 0), pred([0.6, 0.3, 0.1], 0), pred([0.1, 0.2, 0.7], 0), pred([0.5, 0.4, 0.1], 1)]
    out = run(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1, 2)))), preds)
    # top1: videos 0 and 1 right (2/4); top2: + video 3 (3/4); per class: class 0 2/3, class 1 0/1 -> mean 1/3
    assert out == pytest.approx(dict(top1=0.5, top2=0.75, mean1=1 / 3))


def test_views_of_one_video_are_averaged_before_scoring():
    preds = [pred([0.9, 0.1], 0, filename='a'), pred([0.2, 0.8], 0, filename='a'), pred([0.3, 0.7], 1, filename='b')]
    out = run(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1,))), average_by='filename'), preds)
    assert out['top1'] == 1.0  # 'a' averages to (0.55, 0.45): right; scored clip by clip it would be 2/3
    assert run(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1,)))), preds)['top1'] == pytest.approx(2 / 3)


@pytest.mark.parametrize('make, preds, message', [
    (lambda: AccMetric(metric_list='f1'), None, 'metric_list must name some of'),
    (lambda: AccMetric(), [dict(pred_score=torch.zeros(3))], "needs 'pred_score' and 'gt_label'"),
    (lambda: AccMetric(), [pred([0.1, 0.9], 0)], r'topk \[5\] exceeds the number of classes'),
    (lambda: AccMetric(average_by='filename'), [pred([0.1, 0.9], 0)], 'has no such key'),
])
def test_bad_input(make, preds, message):
    with pytest.raises(ValueError, match=message):
        run(make(), preds)
