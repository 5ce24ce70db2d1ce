"""The detection configs: mmdet's names and schedule, and every one builds with channels derived from its backbone."""
from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.config import Config

from resbackbones.layers import FrozenBatchNorm
from resbackbones.registry import MODELS

REPO = Path(__file__).resolve().parents[3]
COCO = ['faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', 'faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
        'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', 'mask_rcnn/mask-rcnn_r101_fpn_1x_coco.py',
        'faster_rcnn/faster-rcnn_r50_fpn_1x_coco_mmdet-conventions.py',
        'mask_rcnn/mask-rcnn_r50_fpn_1x_coco_mmdet-conventions.py']


def load(name: str) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    cfg.model.backbone.init_cfg = None  # no checkpoint download in tests
    return cfg


@pytest.mark.parametrize('name', COCO)
def test_coco_configs_follow_mmdet_1x(name):
    cfg = load(name)
    assert cfg.train_cfg.max_epochs == 12 and cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.param_scheduler[1].milestones == [8, 11] and cfg.param_scheduler[0].end == 500
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    assert cfg.train_dataloader.dataset.data_prefix.img == 'train2017/'
    assert cfg.show_hook == 'DetVisualizationHook'
    assert 'in_channels' not in cfg.model.neck
    assert (cfg.val_evaluator.metric == ['bbox', 'segm']) == name.startswith('mask')


@pytest.mark.parametrize('name, depth', [(COCO[0], 50), (COCO[3], 101)])
def test_coco_models_build_with_frozen_norms(name, depth):
    model = MODELS.build(load(name).model)
    assert model.neck.in_channels == [256, 512, 1024, 2048] and len(model.backbone.layer3) == {50: 6, 101: 23}[depth]
    assert any(isinstance(m, FrozenBatchNorm) for m in model.backbone.modules())
    assert not any(p.requires_grad for p in model.backbone.layer1.parameters())
    assert model.roi_heads.box_predictor.cls_score.out_features == 81


def test_nuclei_config_builds_for_one_grey_channel():
    cfg = load('mask_rcnn/mask-rcnn_r18_fpn_nuclei.py')
    model = MODELS.build(cfg.model)
    assert model.backbone.conv1.in_channels == 1 and model.neck.in_channels == [64, 128, 256, 512]
    assert model.rpn.anchor_generator.sizes[0] == (16.0,) and model.num_classes == 1


@pytest.mark.parametrize('name', [n for n in COCO if n.endswith('_mmdet-conventions.py')])
def test_mmdet_convention_configs_switch_pooling_and_anchors(name):
    from resbackbones.models.detectors.mmdet_conventions import ExactAnchorGenerator
    model = MODELS.build(load(name).model)
    assert model.roi_heads.box_roi_pool.aligned is True
    assert model.roi_heads.box_roi_pool.sampling_ratio == 0
    assert isinstance(model.rpn.anchor_generator, ExactAnchorGenerator)
