"""FasterRCNN / MaskRCNN: derived wiring, any backbone by config, loss and predict data flow, config errors."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData

from resbackbones.registry import MODELS

REPO = Path(__file__).resolve().parents[3]


def detector(kind: str = 'MaskRCNN', backbone: dict | None = None, **kwargs) -> torch.nn.Module:
    cfg = dict(type=kind, backbone=backbone or dict(type='ResNet', depth=18, base_channels=8,
                                                    norm_cfg=dict(type='FrozenBN')),
               neck=dict(type='FPN', out_channels=16, num_outs=5),
               roi_head=dict(num_classes=3, fc_out_channels=32, mask_channels=(16, 16)),
               train_cfg=dict(rpn_proposal=dict(nms_pre=100, max_per_img=50), rcnn=dict(sampler=dict(num=32))),
               test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50), rcnn=dict(score_thr=0.0, max_per_img=10)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def samples(n: int = 2, size: tuple[int, int] = (64, 96), ori: tuple[int, int] = (32, 48)) -> list[BaseDataElement]:
    out = []
    for i in range(n):
        s = BaseDataElement(metainfo=dict(img_shape=size, ori_shape=ori, img_id=i))
        masks = torch.zeros(2, *size, dtype=torch.uint8)
        masks[0, 10:30, 10:40] = 1
        masks[1, 35:60, 50:90] = 1
        s.gt_instances = InstanceData(bboxes=torch.tensor([[10., 10., 40., 30.], [50., 35., 90., 60.]]),
                                      labels=torch.tensor([0, 2]), masks=masks)
        out.append(s)
    return out


def test_neck_and_heads_are_sized_from_the_backbone():
    model = detector(backbone=dict(type='ResNet', depth=18, base_channels=8, out_indices=(1, 2, 3)))
    assert model.neck.in_channels == [16, 32, 64] and model.neck.in_strides == [8, 16, 32]
    sizes = model.rpn.anchor_generator.sizes
    assert sizes == ((64.,), (128.,), (256.,), (512.,), (1024.,))  # scale 8 x strides 8..128
    assert model.roi_heads.box_roi_pool.featmap_names == ['0', '1', '2']
    assert model.roi_heads.box_predictor.cls_score.out_features == 4  # 3 classes + background


def test_backbone_norms_are_what_the_config_says():
    """No hidden default: the detector builds the backbone as configured (the base config states FrozenBN)."""
    from mmengine.config import Config

    from resbackbones.layers import FrozenBatchNorm
    plain = detector(backbone=dict(type='ResNet', depth=18, base_channels=8))
    assert type(plain.backbone.bn1) is torch.nn.BatchNorm2d
    frozen = detector()
    assert isinstance(frozen.backbone.bn1, FrozenBatchNorm)
    base = Config.fromfile(str(REPO / 'configs/_base_/models/faster-rcnn_r50_fpn.py'))
    assert base.model.backbone.norm_cfg == dict(type='FrozenBN')


def test_config_in_channels_must_agree_with_the_backbone():
    with pytest.raises(ValueError, match=r'neck.in_channels=\[256, 512, 1024, 2048\] disagrees'):
        detector(neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=16))


@pytest.mark.parametrize('key, value, match', [
    ('train_cfg', dict(rpn=dict(sampler=dict(nmu=3))), "'train_cfg.rpn.sampler.nmu'"),
    ('test_cfg', dict(rcnn=dict(nms=dict(type='soft_nms'))), "only 'nms'"),
    ('roi_head', dict(num_clases=3), "'roi_head.num_clases'")])
def test_unknown_config_keys_are_refused_by_path(key, value, match):
    with pytest.raises(ValueError, match=match):
        detector(**{key: value})


@pytest.mark.parametrize('kind, backbone', [
    ('MaskRCNN', None),
    ('FasterRCNN', dict(type='ResNetV1d', depth=18, base_channels=8, out_indices=(0, 1, 2))),
    ('FasterRCNN', dict(type='ResNeXt', depth=50, groups=2, base_width=4, base_channels=8, out_indices=(1, 2, 3)))])
def test_loss_trains_every_part(kind, backbone):
    model = detector(kind, backbone).train()
    inputs = torch.randn(2, 3, 64, 96)
    losses = model(inputs, samples(), mode='loss')
    expected = {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'}
    expected |= {'loss_mask'} if kind == 'MaskRCNN' else set()
    assert set(losses) == expected and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for name in ('neck.lateral_convs.0.weight', 'rpn.head.cls_logits.weight',
                 'roi_heads.box_predictor.cls_score.weight'):
        assert model.get_parameter(name).grad.abs().sum() > 0, name


def test_predict_rescales_to_the_original_image():
    model = detector().eval()
    out = model(torch.randn(2, 3, 64, 96), samples(), mode='predict')
    pred = out[0].pred_instances
    assert len(pred) == 10 and pred.masks.shape == (10, 32, 48) and pred.masks.dtype == torch.bool
    assert pred.bboxes[:, 2].max() <= 48 and pred.bboxes[:, 3].max() <= 32
    assert pred.labels.min() >= 0 and pred.labels.max() <= 2
    plain = model.predict(torch.randn(1, 3, 64, 96))[0]  # no data samples: the input size is the image size
    assert plain.pred_instances.masks.shape[1:] == (64, 96)


@pytest.mark.parametrize('meta', [dict(img_shape=(32, 40)),  # resized by half
                                  # then padded to 64 by mmcv's Pad, which sets img_shape to the padded size: the
                                  # boxes were mapped by 64 -> 64 / 80 and came out at [6.25, 6, 18.75, 14]
                                  dict(img_shape=(64, 64), pad_shape=(64, 64, 3))])
def test_boxes_return_to_the_original_pixels_through_padding(meta, monkeypatch):
    model = detector('FasterRCNN').eval()
    box = dict(boxes=torch.tensor([[5., 6., 15., 14.]]), scores=torch.tensor([0.9]), labels=torch.tensor([1]))
    monkeypatch.setattr(model.roi_heads, 'forward', lambda *args, **kwargs: ([box], {}))
    sample = BaseDataElement(metainfo=dict(meta, ori_shape=(64, 80), scale_factor=(0.5, 0.5)))
    out = model.predict(torch.randn(1, 3, *meta['img_shape']), [sample])[0].pred_instances
    torch.testing.assert_close(out.bboxes, torch.tensor([[10., 12., 30., 28.]]))


def test_a_pad_without_a_resize_leaves_boxes_where_they_are(monkeypatch):
    """Pad alone (no scale_factor): the boxes were scaled by the padded-to-original ratio (64 / 80)."""
    model = detector('FasterRCNN').eval()
    box = dict(boxes=torch.tensor([[5., 6., 15., 14.]]), scores=torch.tensor([0.9]), labels=torch.tensor([1]))
    monkeypatch.setattr(model.roi_heads, 'forward', lambda *args, **kwargs: ([box], {}))
    sample = BaseDataElement(metainfo=dict(img_shape=(64, 96), pad_shape=(64, 96, 3), ori_shape=(50, 80)))
    out = model.predict(torch.randn(1, 3, 64, 96), [sample])[0].pred_instances
    torch.testing.assert_close(out.bboxes, box['boxes'])


def test_modes_guard_train_and_eval():
    model = detector()
    with pytest.raises(ValueError, match='model.eval'):
        model.train()(torch.randn(1, 3, 64, 64), samples(1, (64, 64)), mode='predict')
    with pytest.raises(ValueError, match='model.train'):
        model.eval()(torch.randn(1, 3, 64, 64), samples(1, (64, 64)), mode='loss')
    assert len(model(torch.randn(1, 3, 64, 64), mode='tensor')) == 5


def test_degenerate_gt_box_names_the_image():
    bad = samples(1)
    bad[0].gt_instances.bboxes[0] = torch.tensor([10., 10., 10., 30.])
    bad[0].set_metainfo(dict(img_path='a.png'))
    with pytest.raises(ValueError, match='image a.png: gt box'):
        detector().train()(torch.randn(1, 3, 64, 96), bad, mode='loss')


def test_missing_masks_or_annotations_name_the_image_and_the_loading_step():
    """A mask model trained on a pipeline without with_mask=True, or samples without gt_instances, failed deep in
    the loss with mmengine's AttributeError."""
    no_masks = samples(1)
    del no_masks[0].gt_instances.masks
    no_masks[0].set_metainfo(dict(img_path='a.png'))
    with pytest.raises(ValueError, match=r'image a.png: MaskRCNN trains on masks.*\(with_mask=True\)'):
        detector().train()(torch.randn(1, 3, 64, 96), no_masks, mode='loss')
    bare = BaseDataElement(metainfo=dict(img_path='b.png', img_shape=(64, 96), ori_shape=(64, 96)))
    with pytest.raises(ValueError, match='image b.png: its data sample has no gt_instances'):
        detector().train()(torch.randn(1, 3, 64, 96), [bare], mode='loss')


def test_a_small_first_image_does_not_set_the_roi_scales():
    """The poolers guessed their scales from the first batch (torchvision's rule, kept right there by its resize
    to 800 px): a first 40x320 strip doubled every scale, so later detections depended on it."""
    model = detector().eval()
    model.predict(torch.zeros(1, 3, 64, 320), samples(1, (40, 320), (40, 320)))
    big = torch.rand(1, 3, 128, 128)
    after_strip = model.predict(big, samples(1, (128, 128), (128, 128)))[0].pred_instances
    fresh = detector()
    fresh.load_state_dict(model.state_dict())
    direct = fresh.eval().predict(big, samples(1, (128, 128), (128, 128)))[0].pred_instances
    for pool in (model.roi_heads.box_roi_pool, model.roi_heads.mask_roi_pool):
        assert pool.scales == [0.25, 0.125, 0.0625, 0.03125]
    torch.testing.assert_close(after_strip.scores, direct.scores)
