"""mmdet Faster/Mask R-CNN checkpoints load into our detectors and their heads compute what mmdet's compute.

mmdet cannot be installed here, so its head arithmetic is written out below from its definitions (RPNHead:
3x3 conv + ReLU, sigmoid 1x1 classifier and 1x1 regressor; Shared2FCBBoxHead: flatten, two FC + ReLU, fc_cls with
background last, class-specific fc_reg without background; FCNMaskHead: four 3x3 ConvModules + ReLU, stride-2
deconv + ReLU, 1x1 logits without background) and run on the very tensors of a checkpoint written with mmdet's
key names. Our converted model must give the same numbers with background moved first.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from resbackbones.registry import MODELS
from resbackbones.weights.mmdet_detection import convert_mmdet_detection, load_mmdet_detection

C, CH, FC, MASK_CH, A = 3, 32, 64, 16, 3  # classes, FPN channels, FC width, mask head channels, anchors per place


def ours(kind: str = 'MaskRCNN') -> torch.nn.Module:
    return MODELS.build(dict(
        type=kind, backbone=dict(type='ResNet', depth=18, base_channels=8), neck=dict(type='FPN', out_channels=CH),
        roi_head=dict(num_classes=C, fc_out_channels=FC, mask_channels=(MASK_CH,) * 4),
        test_cfg=dict(rcnn=dict(score_thr=0.0)))).eval()


def mmdet_state(model: torch.nn.Module, with_mask: bool = True, agnostic: bool = False) -> dict[str, torch.Tensor]:
    """A random checkpoint state in mmdet's names and shapes for a detector shaped like ``model``."""
    g = torch.Generator().manual_seed(3)

    def rand(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    state = {f'backbone.{k}': rand(*v.shape) if v.is_floating_point() else v
             for k, v in model.backbone.state_dict().items()}
    for k, v in model.backbone.state_dict().items():
        if k.endswith('running_var'):
            state[f'backbone.{k}'] = torch.rand(v.shape, generator=g) + 0.5
    for i, lateral in enumerate(model.neck.lateral_convs):
        state[f'neck.lateral_convs.{i}.conv.weight'] = rand(*lateral.weight.shape)
        state[f'neck.lateral_convs.{i}.conv.bias'] = rand(CH)
        state[f'neck.fpn_convs.{i}.conv.weight'] = rand(CH, CH, 3, 3)
        state[f'neck.fpn_convs.{i}.conv.bias'] = rand(CH)
    state.update({
        'rpn_head.rpn_conv.weight': rand(CH, CH, 3, 3), 'rpn_head.rpn_conv.bias': rand(CH),
        'rpn_head.rpn_cls.weight': rand(A, CH, 1, 1), 'rpn_head.rpn_cls.bias': rand(A),
        'rpn_head.rpn_reg.weight': rand(4 * A, CH, 1, 1), 'rpn_head.rpn_reg.bias': rand(4 * A),
        'roi_head.bbox_head.shared_fcs.0.weight': rand(FC, CH * 7 * 7),
        'roi_head.bbox_head.shared_fcs.0.bias': rand(FC),
        'roi_head.bbox_head.shared_fcs.1.weight': rand(FC, FC), 'roi_head.bbox_head.shared_fcs.1.bias': rand(FC),
        'roi_head.bbox_head.fc_cls.weight': rand(C + 1, FC), 'roi_head.bbox_head.fc_cls.bias': rand(C + 1),
        'roi_head.bbox_head.fc_reg.weight': rand(4 if agnostic else 4 * C, FC),
        'roi_head.bbox_head.fc_reg.bias': rand(4 if agnostic else 4 * C),
    })
    if with_mask:
        for i in range(4):
            state[f'roi_head.mask_head.convs.{i}.conv.weight'] = rand(MASK_CH, CH if i == 0 else MASK_CH, 3, 3)
            state[f'roi_head.mask_head.convs.{i}.conv.bias'] = rand(MASK_CH)
        state.update({'roi_head.mask_head.upsample.weight': rand(MASK_CH, MASK_CH, 2, 2),
                      'roi_head.mask_head.upsample.bias': rand(MASK_CH),
                      'roi_head.mask_head.conv_logits.weight': rand(C, MASK_CH, 1, 1),
                      'roi_head.mask_head.conv_logits.bias': rand(C)})
    return state


def mmdet_rpn(s, x):
    t = F.relu(F.conv2d(x, s['rpn_head.rpn_conv.weight'], s['rpn_head.rpn_conv.bias'], padding=1))
    return (F.conv2d(t, s['rpn_head.rpn_cls.weight'], s['rpn_head.rpn_cls.bias']),
            F.conv2d(t, s['rpn_head.rpn_reg.weight'], s['rpn_head.rpn_reg.bias']))


def mmdet_bbox(s, rois):
    h = rois.flatten(1)
    for i in range(2):
        fc = f'roi_head.bbox_head.shared_fcs.{i}'
        h = F.relu(F.linear(h, s[f'{fc}.weight'], s[f'{fc}.bias']))
    return (F.linear(h, s['roi_head.bbox_head.fc_cls.weight'], s['roi_head.bbox_head.fc_cls.bias']),
            F.linear(h, s['roi_head.bbox_head.fc_reg.weight'], s['roi_head.bbox_head.fc_reg.bias']))


def mmdet_mask(s, rois):
    h = rois
    for i in range(4):
        h = F.relu(F.conv2d(h, s[f'roi_head.mask_head.convs.{i}.conv.weight'],
                            s[f'roi_head.mask_head.convs.{i}.conv.bias'], padding=1))
    h = F.relu(F.conv_transpose2d(h, s['roi_head.mask_head.upsample.weight'], s['roi_head.mask_head.upsample.bias'],
                                  stride=2))
    return F.conv2d(h, s['roi_head.mask_head.conv_logits.weight'], s['roi_head.mask_head.conv_logits.bias'])


@torch.no_grad()
def test_converted_heads_compute_what_mmdet_computes(tmp_path):
    model = ours()
    state = mmdet_state(model)
    path = tmp_path / 'mask_rcnn_mmdet.pth'
    torch.save({'state_dict': state, 'meta': {'mmdet_version': '3.3.0', 'dataset_meta': {'classes': ('a', 'b', 'c')}}},
               path)
    report = load_mmdet_detection(model, str(path))
    assert report['missing'] == [] and report['unexpected'] == [] and report['notes']

    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, state[f'backbone.{key}']), key
    assert torch.equal(model.neck.fpn_convs[2].weight, state['neck.fpn_convs.2.conv.weight'])

    x = torch.randn(2, CH, 12, 10)
    (objectness,), (deltas,) = model.rpn.head([x])
    ref_cls, ref_reg = mmdet_rpn(state, x)
    torch.testing.assert_close(objectness, ref_cls)
    torch.testing.assert_close(deltas, ref_reg)

    rois = torch.randn(5, CH, 7, 7)
    logits, boxes = model.roi_heads.box_predictor(model.roi_heads.box_head(rois))
    ref_logits, ref_boxes = mmdet_bbox(state, rois)
    torch.testing.assert_close(logits, torch.cat([ref_logits[:, C:], ref_logits[:, :C]], 1))  # background first
    torch.testing.assert_close(logits.softmax(1)[:, 1:], ref_logits.softmax(1)[:, :C])
    torch.testing.assert_close(boxes[:, 4:], ref_boxes)
    assert not boxes[:, :4].any()

    mask_rois = torch.randn(5, CH, 14, 14)
    masks = model.roi_heads.mask_predictor(model.roi_heads.mask_head(mask_rois))
    torch.testing.assert_close(masks[:, 1:], mmdet_mask(state, mask_rois))

    [result] = model.predict(torch.randn(1, 3, 64, 64))  # the whole converted detector runs
    assert result.pred_instances.masks.shape[-2:] == (64, 64)


def test_class_agnostic_regression_is_shared_by_every_class():
    model = ours('FasterRCNN')
    state = mmdet_state(model, with_mask=False, agnostic=True)
    converted, _ = convert_mmdet_detection(state)
    reg = converted['roi_heads.box_predictor.bbox_pred.weight']
    assert reg.shape == (4 * (C + 1), FC)
    for c in range(C + 1):
        assert torch.equal(reg[4 * c:4 * c + 4], state['roi_head.bbox_head.fc_reg.weight'])
    report = load_mmdet_detection(model, state)  # a state dict works as well as a file
    assert report['missing'] == [] and report['unexpected'] == []


@pytest.mark.parametrize('change, message', [
    (lambda s: s.update({'roi_head.bbox_head.fc_reg.weight': torch.zeros(7, FC)}),
     'roi_heads.box_predictor.bbox_pred.weight: 7 rows, expected 4 x 3 classes'),
    (lambda s: s.update({'roi_head.bbox_head.shared_convs.0.conv.weight': torch.zeros(CH, CH, 3, 3)}),
     "1 unexpected ['roi_head.bbox_head.shared_convs.0.conv.weight']"),
    (lambda s: s.pop('rpn_head.rpn_reg.bias'), "1 keys missing ['rpn.head.bbox_pred.bias']"),
    (lambda s: s.update({'roi_head.bbox_head.fc_cls.weight': torch.zeros(C + 2, FC),
                         'roi_head.bbox_head.fc_cls.bias': torch.zeros(C + 2),
                         'roi_head.bbox_head.fc_reg.weight': torch.zeros(4 * (C + 1), FC),
                         'roi_head.bbox_head.fc_reg.bias': torch.zeros(4 * (C + 1))}),
     'tensors differ in shape'),
])
def test_bad_checkpoints_are_refused_and_the_model_kept(change, message):
    model = ours('FasterRCNN')
    state = mmdet_state(model, with_mask=False)
    change(state)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=message.replace('[', r'\[').replace(']', r'\]')):
        load_mmdet_detection(model, state)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_cli_writes_a_checkpoint_our_tools_load(tmp_path, capsys):
    from resbackbones.apis.inference import init_detector
    from resbackbones.weights.mmdet_detection import main

    config = tmp_path / 'tiny_mask_rcnn.py'
    config.write_text(
        "model = dict(type='MaskRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8),\n"
        f"             neck=dict(type='FPN', out_channels={CH}),\n"
        f"             roi_head=dict(num_classes={C}, fc_out_channels={FC}, mask_channels=({MASK_CH},) * 4))\n")
    state = mmdet_state(ours())
    torch.save({'state_dict': state, 'meta': {'mmdet_version': '3.3.0'}}, tmp_path / 'mmdet.pth')
    main([str(tmp_path / 'mmdet.pth'), str(tmp_path / 'ours.pth'), '--config', str(config)])
    assert 'background class moved' in capsys.readouterr().out
    model = init_detector(str(config), str(tmp_path / 'ours.pth'))
    assert torch.equal(model.roi_heads.box_head.fc7.weight, state['roi_head.bbox_head.shared_fcs.1.weight'])
    assert torch.equal(model.roi_heads.mask_predictor.mask_fcn_logits.weight[1:],
                       state['roi_head.mask_head.conv_logits.weight'])
