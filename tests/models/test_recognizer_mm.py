"""MMRecognizer3D + RGBPoseHead + MultiModalDataPreprocessor: PoseC3D's RGB + pose recognizer, as mmaction2's."""
import pytest
import torch
import torch.nn.functional as F

from resbackbones.backbones.rgbpose_conv3d import POSE_PATHWAY, RGB_PATHWAY
from resbackbones.registry import MODELS

RGB = dict(RGB_PATHWAY, stage_blocks=(1, 1, 1, 1), base_channels=8)  # narrowed and shallow, width ratio kept
POSE = dict(POSE_PATHWAY, stage_blocks=(1, 1, 1), base_channels=4)
PREPROCESSOR = dict(type='MultiModalDataPreprocessor', preprocessors=dict(
    imgs=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
              format_shape='NCTHW'),
    heatmap_imgs=dict(type='ActionDataPreprocessor')))


def _model(test_cfg: dict | None = None, **head) -> torch.nn.Module:
    cls_head = dict(dict(type='RGBPoseHead', num_classes=4, dropout=0.0, average_clips='prob'), **head)
    return MODELS.build(dict(type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D', rgb_pathway=RGB,
                                                                   pose_pathway=POSE),
                             cls_head=cls_head, data_preprocessor=PREPROCESSOR, test_cfg=test_cfg)).eval()


def _inputs(n: int = 2, views: int = 1) -> dict:
    gen = torch.Generator().manual_seed(0)
    return dict(imgs=torch.rand(n, views, 3, 4, 32, 32, generator=gen),
                heatmap_imgs=torch.rand(n, views, 17, 16, 8, 8, generator=gen))


def test_the_loss_is_each_components_weighted_cross_entropy():
    model = _model(loss_components=['rgb', 'pose'], loss_weights=[2., 0.5])
    inputs, labels = _inputs(), torch.tensor([1, 3])
    with torch.no_grad():
        logits = model(inputs, mode='tensor')
        losses = model(inputs, [dict(gt_label=1), dict(gt_label=3)], mode='loss')
    assert losses['rgb_loss_cls'] == pytest.approx(2 * float(F.cross_entropy(logits['rgb'], labels)), rel=1e-5)
    assert losses['pose_loss_cls'] == pytest.approx(0.5 * float(F.cross_entropy(logits['pose'], labels)), rel=1e-5)
    hits = (logits['pose'].argmax(1) == labels).float().mean()
    assert losses['pose_top1_acc'] == pytest.approx(float(hits))


def test_a_single_component_is_the_only_one_trained_and_scored():
    model = _model(loss_components=['pose'], loss_weights=1.)
    with torch.no_grad():
        losses = model(_inputs(), [dict(gt_label=0), dict(gt_label=1)], mode='loss')
        preds = model(_inputs(), [dict(gt_label=0), dict(gt_label=1)], mode='predict')
    assert sorted(k for k in losses if 'loss' in k) == ['pose_loss_cls']
    assert set(preds[0]['pred_score']) == {'pose'} and preds[1]['gt_label'] == 1


@torch.no_grad()
def test_predict_averages_each_streams_probabilities_over_a_samples_views():
    model = _model()
    inputs = _inputs(n=2, views=3)
    flat = {k: v.flatten(0, 1)[:, None] for k, v in inputs.items()}  # every view as its own sample
    per_view = model(flat, mode='tensor')
    preds = model(inputs, [dict(gt_label=0), dict(gt_label=2)], mode='predict')
    for stream in ('rgb', 'pose'):
        expected = per_view[stream].softmax(1).view(2, 3, -1).mean(1)
        torch.testing.assert_close(torch.stack([p['pred_score'][stream] for p in preds]), expected)


@torch.no_grad()
def test_max_testing_views_gives_the_same_scores():
    inputs, model, chunked_model = _inputs(n=2, views=3), _model(), _model(test_cfg=dict(max_testing_views=2))
    chunked_model.load_state_dict(model.state_dict())
    whole, chunked = model(inputs, mode='tensor'), chunked_model(inputs, mode='tensor')
    for stream in whole:
        torch.testing.assert_close(chunked[stream], whole[stream])


def test_the_preprocessor_normalises_frames_and_only_casts_heatmaps():
    model = _model()
    frames = torch.full((1, 3, 4, 32, 32), 255, dtype=torch.uint8)
    heatmaps = torch.full((1, 17, 16, 8, 8), 0.25)
    batch = model.data_preprocessor(dict(inputs=dict(imgs=[frames], heatmap_imgs=[heatmaps]),
                                         data_samples=[dict(gt_label=0)]))
    assert batch['inputs']['imgs'][0, 0, 0, 0, 0, 0] == pytest.approx((255 - 123.675) / 58.395)
    assert batch['inputs']['heatmap_imgs'].dtype == torch.float32
    assert torch.equal(batch['inputs']['heatmap_imgs'][0], heatmaps)


@pytest.mark.parametrize('inputs, message', [
    (dict(imgs=torch.rand(2, 1, 3, 4, 32, 32)), r"takes the modalities \['imgs', 'heatmap_imgs'\]"),
    (dict(imgs=torch.rand(2, 2, 3, 4, 32, 32), heatmap_imgs=torch.rand(2, 1, 17, 16, 8, 8)),
     r'the modalities differ in \(samples, views\)'),
    (torch.rand(2, 3, 4, 32, 32), 'takes a dict of modality batches'),
])
def test_batches_that_do_not_fit_are_refused(inputs, message):
    with pytest.raises(ValueError, match=message):
        _model()(inputs, mode='tensor')


def test_a_label_outside_the_classes_is_refused():
    with pytest.raises(ValueError, match=r'MMRecognizer3D: v/a.mp4 has label 7, not a class in \[0, 4\)'):
        _model()(_inputs(), [dict(gt_label=7, filename='v/a.mp4'), dict(gt_label=0)], mode='loss')


@pytest.mark.parametrize('head, message', [
    (dict(loss_components=['rgb', 'flow']), 'loss_components must be distinct names among'),
    (dict(loss_components=['rgb', 'pose'], loss_weights=[1.]), 'loss_weights must be a number or one per'),
    (dict(in_channels=[2048, 512]), r'in_channels=\[2048, 512\]'),
    (dict(dropout=dict(rgb=0.5)), r'dropout must be a probability in \[0, 1\) or dict'),
    (dict(multi_class=True, loss_cls=dict(type='BCELossWithLogits')), 'multi_class is not supported'),
])
def test_bad_head_arguments_name_themselves(head, message):
    with pytest.raises(ValueError, match=message):
        _model(**head)


@pytest.mark.parametrize('preprocessors, message', [
    (dict(), 'preprocessors must be dict'),
    (dict(imgs=dict(mean=[0, 0, 0])), r"preprocessors \['imgs'\] need a config dict with a 'type'"),
])
def test_bad_preprocessors_name_themselves(preprocessors, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='MultiModalDataPreprocessor', preprocessors=preprocessors))


def test_a_modality_without_a_preprocessor_is_refused():
    with pytest.raises(ValueError, match=r"modalities \['flow'\] without a preprocessor"):
        _model().data_preprocessor(dict(inputs=dict(flow=[torch.zeros(2, 4, 8, 8)]), data_samples=None))
