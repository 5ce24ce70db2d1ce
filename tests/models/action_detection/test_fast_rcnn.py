"""FastRCNN for AVA: mmaction2's config form builds, trains and predicts; its checkpoints load; bad input is named."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from resbackbones.engine.config import adopt_foreign_runtime
from resbackbones.registry import MODELS
from resbackbones.weights.task_checkpoint import load_task_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared mmaction2 reference
from mmaction2_reference import to_mmaction2_keys  # noqa: E402

# mmaction2's AVA model section (slowonly_kinetics400-pretrained-r50_..._ava21-rgb.py) at a tiny width and depth
MMACTION2_MODEL = dict(
    type='FastRCNN', _scope_='mmdet',
    backbone=dict(type='mmaction.ResNet3dSlowOnly', depth=18, base_channels=8, pretrained=None, pretrained2d=False,
                  lateral=False, num_stages=4, conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                  spatial_strides=(1, 2, 2, 1)),
    roi_head=dict(type='AVARoIHead',
                  bbox_roi_extractor=dict(type='SingleRoIExtractor3D', roi_layer_type='RoIAlign', output_size=8,
                                          with_temporal_pool=True),
                  bbox_head=dict(type='BBoxHeadAVA', background_class=True, in_channels=64, num_classes=6,
                                 multilabel=True, dropout_ratio=0.5, topk=(2, 3))),
    data_preprocessor=dict(type='mmaction.ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    train_cfg=dict(rcnn=dict(assigner=dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9,
                                           min_pos_iou=0.9),
                             sampler=dict(type='RandomSampler', num=32, pos_fraction=1, neg_pos_ub=-1,
                                          add_gt_as_proposals=True),
                             pos_weight=1.0)),
    test_cfg=dict(rcnn=None))


def _build(tmp_path: Path, **changes):
    model = copy.deepcopy(MMACTION2_MODEL)
    model.update(changes)
    path = tmp_path / 'ava_config.py'
    path.write_text(f"default_scope = 'mmaction'\nmodel = {model!r}\n")
    cfg = adopt_foreign_runtime(Config.fromfile(str(path)), str(path))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _samples(flip=False) -> list[dict]:
    labels = np.zeros((2, 6), np.float32)
    labels[0, [1, 4]] = labels[1, 2] = 1
    return [dict(gt_bboxes=torch.tensor([[4., 6., 30., 60.], [34., 8., 62., 50.]]), gt_labels=torch.from_numpy(labels),
                 proposals=torch.tensor([[5., 6., 30., 60.], [30., 10., 60., 50.], [0., 0., 20., 20.]]),
                 img_shape=(64, 64), flip=flip, crop_quadruple=np.array([0, 0, 1, 1], np.float32),
                 video_id='vid', timestamp=902 + i) for i in range(2)]


def _clips() -> torch.Tensor:
    return torch.randint(0, 256, (2, 3, 4, 64, 64), generator=torch.Generator().manual_seed(1)).float()


def _step(model, mode, samples):
    data = model.data_preprocessor(dict(inputs=_clips(), data_samples=samples), mode == 'loss')
    return model(data['inputs'], data['data_samples'], mode=mode)


def test_mmaction2_config_form_trains_and_predicts(tmp_path):
    model = _build(tmp_path)
    assert type(model.backbone).__name__ == 'ResNet3dSlowOnly'
    model.train()
    losses = _step(model, 'loss', _samples())
    losses['loss_action_cls'].backward()
    assert model.roi_head.bbox_head.fc_cls.weight.grad.abs().sum() > 0
    assert {'recall@thr=0.5', 'prec@top3', 'loss_action_cls'} <= set(losses)
    model.eval()
    out = _step(model, 'predict', _samples())
    scores, boxes = out[0]['pred_instances']['scores'], out[0]['pred_instances']['bboxes']
    assert scores.shape == (3, 6) and ((scores > 0) & (scores < 1)).all()
    assert torch.allclose(boxes, torch.tensor([[5., 6., 30., 60.], [30., 10., 60., 50.], [0., 0., 20., 20.]]) / 64)
    assert out[1]['timestamp'] == 903 and out[0]['video_id'] == 'vid'


def test_collated_samples_give_the_same_predictions(tmp_path):
    from mmengine.dataset import pseudo_collate
    model = _build(tmp_path).eval()
    listed = _step(model, 'predict', _samples())
    collated = _step(model, 'predict', pseudo_collate(_samples()))  # a dict of per-sample lists, as loaders give
    assert torch.equal(listed[1]['pred_instances']['scores'], collated[1]['pred_instances']['scores'])


def test_mmaction2_checkpoint_loads_key_for_key(tmp_path):
    source = _build(tmp_path).eval()
    with torch.no_grad():
        for p in source.parameters():
            p.uniform_(-0.1, 0.1)
    state = {to_mmaction2_keys(k): v for k, v in source.state_dict().items()}
    assert 'backbone.conv1.conv.weight' in state and 'roi_head.bbox_head.fc_cls.weight' in state
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'ava.pth')
    target = _build(tmp_path).eval()
    assert 'mmaction2 checkpoint' in load_task_checkpoint(target, tmp_path / 'ava.pth')
    expected = _step(source, 'predict', _samples())[0]['pred_instances']['scores']
    assert torch.equal(_step(target, 'predict', _samples())[0]['pred_instances']['scores'], expected)


def test_recognizer_checkpoint_initialises_the_backbone_only(tmp_path):
    recognizer = MODELS.build(dict(type='Recognizer3D', num_classes=400, backbone=MMACTION2_MODEL['backbone'] | dict(
        type='ResNet3dSlowOnly')))
    state = {to_mmaction2_keys(k): v for k, v in recognizer.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'k400.pth')
    model = _build(tmp_path, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'k400.pth')))
    head_before = model.roi_head.bbox_head.fc_cls.weight.clone()
    model.init_weights()
    assert torch.equal(model.backbone.layer3[0].conv1.weight, recognizer.backbone.layer3[0].conv1.weight)
    assert torch.equal(model.roi_head.bbox_head.fc_cls.weight, head_before)  # its own init: the classifier is skipped
    with pytest.raises(ValueError, match="no 'roi_head.' weights"):  # testing needs a detector's checkpoint
        load_task_checkpoint(model, tmp_path / 'k400.pth')


@pytest.mark.parametrize('change, message', [
    (lambda s: s[1].pop('proposals'), "vid has no 'proposals'|sample 1 has no 'proposals'"),
    (lambda s: s[0].update(gt_labels=torch.zeros(2, 5)), r"'gt_labels' must be \(2, 6\) multi-hot rows"),
    (lambda s: s[0].update(proposals=torch.zeros(3, 5)), r"'proposals' must be \(n, 4\) boxes"),
])
def test_bad_data_samples_are_named(tmp_path, change, message):
    model = _build(tmp_path).train()
    samples = _samples()
    change(samples)
    with pytest.raises(ValueError, match=message):
        _step(model, 'loss', samples)


@pytest.mark.parametrize('changes, message', [
    (dict(neck=dict(type='FPN')), 'neck is not supported here'),
    (dict(roi_head=dict(type='StandardRoIHead')), "roi_head type must be 'AVARoIHead'"),
    (dict(train_cfg=dict(rpn=dict(), rcnn=dict())), r"train_cfg keys \['rpn'\] are not used"),
])
def test_unsupported_parts_are_refused(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        _build(tmp_path, **changes)


@pytest.mark.parametrize('roi_changes, expected', [
    (dict(bbox_roi_extractor=dict(type='SingleRoIExtractor3D')), (None, 64)),
    (dict(bbox_roi_extractor=dict(type='SingleRoIExtractor3D', with_global=True)), (None, 128)),
    (dict(shared_head=dict(type='ACRNHead', out_channels=32)), (128, 32)),
    # with_global RoI features (2C) join the frame's C: 3C (4C was derived, and the forward failed in conv3d)
    (dict(bbox_roi_extractor=dict(type='SingleRoIExtractor3D', with_global=True),
          shared_head=dict(type='ACRNHead', out_channels=32)), (192, 32)),
])
def test_head_channels_follow_the_backbone_when_left_out(tmp_path, roi_changes, expected):
    roi_head = copy.deepcopy(MMACTION2_MODEL['roi_head'])
    roi_head['bbox_head'].pop('in_channels')
    roi_head.update(roi_changes)
    model = _build(tmp_path, roi_head=roi_head)
    shared = model.roi_head.shared_head
    assert (shared and shared.in_channels, model.roi_head.bbox_head.fc_cls.in_features) == expected
    assert _step(model.eval(), 'predict', _samples())[0]['pred_instances']['scores'].isfinite().all()
