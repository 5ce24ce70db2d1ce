"""TSMOptimWrapperConstructor: mmaction2's TSM parameter groups (lr / weight-decay multipliers by layer kind)."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

import resbackbones  # noqa: F401  (registration)
from resbackbones.registry import MODELS

TSM = dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=18, base_channels=8, num_segments=4),
           cls_head=dict(type='TSMHead', num_classes=5, num_segments=4))


def _groups(model, fc_lr5=True, **paramwise):
    init_default_scope('resbackbones')  # as a runner does for a config: the constructor is found in our scope
    wrapper = build_optim_wrapper(model, dict(
        constructor='TSMOptimWrapperConstructor', paramwise_cfg=dict(fc_lr5=fc_lr5, **paramwise),
        optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4)))
    return {id(p): (g['lr'], g['weight_decay']) for g in wrapper.optimizer.param_groups for p in g['params']}


@pytest.mark.parametrize('fc_lr5', [True, False])
def test_groups_follow_mmaction2s_rules(fc_lr5):
    model = MODELS.build(TSM)
    groups = _groups(model, fc_lr5)
    assert len(groups) == sum(1 for _ in model.parameters())  # every parameter in exactly one group
    expect = {model.backbone.conv1.weight: (0.02, 1e-4),  # the first conv: plain
              model.backbone.layer2[0].conv1.weight: (0.02, 1e-4),
              model.backbone.bn1.weight: (0.02, 0), model.backbone.layer3[1].bn2.bias: (0.02, 0),  # norms: no decay
              model.head.fc.weight: (0.1, 1e-4) if fc_lr5 else (0.02, 1e-4),
              model.head.fc.bias: (0.2, 0) if fc_lr5 else (0.04, 0)}  # biases: lr x2 (x10 for the classifier's)
    for param, (lr, decay) in expect.items():
        assert groups[id(param)] == pytest.approx((lr, decay))


def test_a_layer_without_a_rule_is_named():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Embedding(10, 4), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"module '1' \(Embedding\) has parameters but no TSM learning-rate rule"):
        _groups(model)


def test_other_paramwise_options_are_refused():
    with pytest.raises(ValueError, match='paramwise_cfg takes only fc_lr5'):
        _groups(MODELS.build(TSM), bias_decay_mult=0.0)


def test_tsm_config_trains_a_step_with_its_groups():
    model = MODELS.build(TSM)
    init_default_scope('resbackbones')
    wrapper = build_optim_wrapper(model, dict(constructor='TSMOptimWrapperConstructor', paramwise_cfg=dict(fc_lr5=True),
                                              optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))
    before = model.head.fc.weight.detach().clone()
    wrapper.update_params(model(torch.randn(2, 4, 3, 32, 32), [0, 3], mode='loss')['loss'])
    assert not torch.equal(before, model.head.fc.weight)


def test_fc_lr5_boosts_the_classifier_whatever_layers_follow_it():
    """A TPN neck is registered after the head, so the last linear layer was its auxiliary head's fc (lr x5) and
    the classifier stayed at x1; TRN boosted a relation MLP where mmaction2 boosts fc_cls (built after it there)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'necks'))
    from test_tpn import _recognizer
    tpn = _recognizer()
    groups = _groups(tpn)
    assert groups[id(tpn.head.fc.weight)] == pytest.approx((0.1, 1e-4))
    assert groups[id(tpn.neck.aux_head.fc.weight)] == pytest.approx((0.02, 1e-4))
    trn = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=18, base_channels=8,
                                                               num_segments=4),
                            cls_head=dict(type='TRNHead', num_classes=5, num_segments=4, hidden_dim=8)))
    groups = _groups(trn)
    assert groups[id(trn.head.fc.weight)] == pytest.approx((0.1, 1e-4))
    assert groups[id(trn.head.consensus.fc_fusion_scales[-1][-1].weight)] == pytest.approx((0.02, 1e-4))
