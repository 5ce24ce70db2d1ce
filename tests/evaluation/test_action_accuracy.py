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


@pytest.mark.parametrize('collated', [False, True])
def test_the_video_key_is_read_from_the_batch(collated):
    """A recognizer's predictions carry scores and labels only; 'filename' is in the batch's data_samples (a list
    of dicts, or a dict of lists as mmengine's pseudo_collate makes it). average_by='filename' failed on them."""
    preds = [pred([0.9, 0.1], 0), pred([0.2, 0.8], 0), pred([0.3, 0.7], 1)]
    names = ['a', 'a', 'b']
    samples = dict(filename=names) if collated else [dict(filename=n) for n in names]
    metric = AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1,))), average_by='filename')
    metric.process(dict(inputs=None, data_samples=samples), preds)
    assert metric.compute_metrics(metric.results)['top1'] == 1.0  # 'a' averaged; clip by clip it is 2/3


def test_top_k_past_the_classes_is_one_as_mmaction2():
    """The default topk=(1, 5) on a 3-class task: mmaction2 reports top5 = 1.0 (every class ranked); it raised
    here, after the whole validation pass."""
    out = run(AccMetric(), [pred([0.7, 0.2, 0.1], 0), pred([0.7, 0.2, 0.1], 2)])
    assert out == pytest.approx(dict(top1=0.5, top5=1.0, mean1=0.5))


@pytest.mark.parametrize('make, preds, message', [
    (lambda: AccMetric(metric_list='f1'), None, 'metric_list must name some of'),
    (lambda: AccMetric(), [dict(pred_score=torch.zeros(3))], "needs 'pred_score' and 'gt_label'"),
    (lambda: AccMetric(), [pred([0.1, 0.9], 0), pred([0.9, 0.1], 5)],
     r'AccMetric: ground-truth label 5 is outside the 2 classes of pred_score \(1 such\)'),
    (lambda: AccMetric(metric_list=('mean_average_precision',)), [pred([0.1, 0.9], -1)],
     r'label -1 is outside the 2 classes'),  # was torch's one_hot RuntimeError
    (lambda: AccMetric(average_by='filename'), [pred([0.1, 0.9], 0)], "nor its batch's data_samples have that key"),
    # a diverged model's NaN scores read top-1 0.5 on two classes
    (lambda: AccMetric(), [pred([float('nan')] * 2, 0), pred([0.9, 0.1], 1)],
     'AccMetric: 1 of 2 predictions have NaN or inf in pred_score'),
])
def test_bad_input(make, preds, message):
    with pytest.raises(ValueError, match=message):
        run(make(), preds)


def test_average_precision_is_sklearns_with_ties():
    from sklearn.metrics import average_precision_score

    from resbackbones.evaluation.action_accuracy import average_precision
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        scores = torch.randint(0, 6, (30,), generator=generator).float() / 5  # many ties
        positives = torch.rand(30, generator=generator) < 0.3
        positives[0] = True
        assert average_precision(scores, positives) == pytest.approx(
            average_precision_score(positives.numpy(), scores.numpy()))
    assert average_precision(torch.tensor([0.9, 0.8, 0.1]), torch.tensor([True, False, True])) == pytest.approx(
        (1 / 1 + 2 / 3) / 2)  # by hand: positives at ranks 1 and 3


def test_mean_average_precision_on_multi_hot_labels_skips_classes_without_positives():
    metric = AccMetric(metric_list=('mean_average_precision',))
    metric.process(None, [dict(pred_score=torch.tensor([0.9, 0.2, 0.1]), gt_label=torch.tensor([1., 0., 0.])),
                          dict(pred_score=torch.tensor([0.8, 0.7, 0.6]), gt_label=torch.tensor([0., 1., 0.])),
                          dict(pred_score=torch.tensor([0.1, 0.9, 0.2]), gt_label=torch.tensor([1., 1., 0.]))])
    result = metric.evaluate(3)
    # class 0: positives ranked 1st and 3rd -> (1 + 2/3) / 2; class 1: ranked 1st and 2nd -> 1; class 2: none
    assert result['acc/mean_average_precision'] == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)


def test_multi_hot_labels_refuse_single_label_metrics():
    metric = AccMetric()
    metric.process(None, [dict(pred_score=torch.tensor([0.9, 0.2]), gt_label=torch.tensor([1., 1.]))])
    with pytest.raises(ValueError, match='need single labels; for multi-label data use metric_list'):
        metric.evaluate(1)


def test_two_stream_scores_are_scored_per_stream_and_fused_with_mmaction2s_weights():
    streams = [  # (rgb, pose, label): rgb right on videos 0 and 1, pose on 1 and 2; each fusion weight decides 3
        ([0.65, 0.35], [0.3, 0.7], 0), ([0.2, 0.8], [0.1, 0.9], 1), ([0.55, 0.45], [0.2, 0.8], 1),
        ([0.45, 0.55], [0.7, 0.3], 0)]
    preds = [dict(pred_score=dict(rgb=torch.tensor(r), pose=torch.tensor(p)), gt_label=y) for r, p, y in streams]
    out = run(AccMetric(metric_list=('top_k_accuracy',), metric_options=dict(top_k_accuracy=dict(topk=(1,)))), preds)
    # video 0 is right only at 2:1 (1.6, 1.4; 1:1 gives (0.95, 1.05), 1:2 (1.25, 1.75)); videos 1-3 right at every
    # weighting (video 3's pose outweighs its rgb even at 2:1: (1.6, 1.4))
    assert out == pytest.approx({'rgb_top1': 0.5, 'pose_top1': 0.75, 'RGBPose_1:1_top1': 0.75,
                                 'RGBPose_2:1_top1': 1.0, 'RGBPose_1:2_top1': 0.75})


def test_one_stream_of_a_two_stream_model_is_scored_under_its_name():
    preds = [dict(pred_score=dict(rgb=torch.tensor([0.9, 0.1])), gt_label=0)]
    out = run(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1,)))), preds)
    assert out == {'rgb_top1': 1.0, 'rgb_mean1': 1.0}


def test_predictions_mixing_stream_dicts_and_plain_scores_are_refused():
    preds = [dict(pred_score=dict(rgb=torch.tensor([0.9, 0.1])), gt_label=0), pred([0.1, 0.9], 1)]
    with pytest.raises(ValueError, match='predictions mix score kinds'):
        run(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1,)))), preds)
