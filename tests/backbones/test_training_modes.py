"""frozen_stages, norm_eval, with_cp, drop path, zero-init and describe() behave as mmdet users expect."""
import pytest
import torch
from torch import nn

from resbackbones.layers import is_batch_norm
from resbackbones.registry import MODELS


def _build(**kwargs):
    return MODELS.build(dict(type='ResNet', depth=18, base_channels=8, **kwargs))


@pytest.mark.parametrize('frozen_stages', [-1, 0, 1, 3, 4])
def test_frozen_stages_freeze_stem_and_first_stages(frozen_stages):
    model = _build(frozen_stages=frozen_stages, norm_eval=False)
    model.train()
    parts = [[model.conv1, model.bn1]] + [[s] for s in model.stages()]
    for index, modules in enumerate(parts):
        frozen = index <= frozen_stages
        for module in modules:
            assert all(p.requires_grad != frozen for p in module.parameters())
            assert all(m.training != frozen for m in module.modules() if is_batch_norm(m))


def test_frozen_stage_statistics_do_not_move_in_training():
    model = _build(frozen_stages=1, norm_eval=False).train()
    before = model.layer1[0].bn1.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.layer1[0].bn1.running_mean, before)
    assert model.layer2[0].bn1.running_mean.abs().sum() > 0  # unfrozen stages do update


@pytest.mark.parametrize('norm_eval', [True, False])
def test_norm_eval_keeps_batch_norms_in_eval(norm_eval):
    model = _build(norm_eval=norm_eval).train()
    norms = [m for m in model.modules() if is_batch_norm(m)]
    assert all(m.training != norm_eval for m in norms)
    assert 'eval' in model.describe() if norm_eval else 'train' in model.describe()


def test_describe_reports_trainable_params_and_strides():
    text = _build(frozen_stages=1).describe()
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:7]}
    assert rows['stem'][1] == '0' and rows['layer1'][1] == '0'
    assert rows['layer2'][1] == rows['layer2'][2] != '0'
    assert [rows[n][-1] for n in ('stem', 'layer1', 'layer2', 'layer3', 'layer4')] == ['2', '4', '8', '16', '32']
    assert rows['stem'][3] == 'frozen'


def test_describe_calls_training_norms_without_trainable_affine_train_fixed():
    """BN(requires_grad=False) in training mode uses and updates batch statistics: it read 'frozen'."""
    model = _build(norm_cfg=dict(type='BN', requires_grad=False), norm_eval=False).train()
    rows = {line.split()[0]: line.split() for line in model.describe().splitlines()[2:7]}
    assert {row[3] for row in rows.values()} == {'train-fixed'}
    assert {line.split()[3] for line in model.eval().describe().splitlines()[2:7]} == {'frozen'}


def test_with_cp_gives_the_same_output_gradients_and_running_statistics():
    """The recomputation in backward updated the norms' running statistics a second time (num_batches_tracked 2
    after one step, a momentum of 0.19 for 0.1)."""
    torch.manual_seed(0)
    plain = _build(zero_init_residual=False, norm_eval=False)
    checkpointed = _build(zero_init_residual=False, with_cp=True, norm_eval=False)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    grads = []
    for model in (plain, checkpointed):
        model.train()
        sum(o.sum() for o in model(x)).backward()
        grads.append(model.conv1.weight.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-5)
    stats = [{k: v for k, v in m.state_dict().items() if 'running' in k or 'num_batches' in k}
             for m in (plain, checkpointed)]
    assert stats[1]['layer4.1.bn2.num_batches_tracked'] == 1
    assert all(torch.allclose(stats[0][k], stats[1][k], atol=1e-6) for k in stats[0])


def test_zero_init_residual_makes_blocks_start_as_identity_branches():
    model = _build(zero_init_residual=True)
    assert all(torch.all(b.bn2.weight == 0) for s in model.stages() for b in s)
    assert not torch.all(_build(zero_init_residual=False).layer1[0].bn2.weight == 0)


def test_drop_path_only_acts_in_training_and_rises_with_depth():
    model = _build(drop_path_rate=0.3, norm_eval=False)
    rates = [b.drop_path.rate for s in model.stages() for b in s if not isinstance(b.drop_path, nn.Identity)]
    assert rates == sorted(rates) and rates[-1] == pytest.approx(0.3)
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(model(x)[-1], model(x)[-1])


def test_dcn_starts_as_the_plain_conv():
    plain = MODELS.build(dict(type='ResNet', depth=50, base_channels=8, zero_init_residual=False))
    dcn = MODELS.build(dict(type='ResNet', depth=50, base_channels=8, zero_init_residual=False,
                            dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True)))
    missing, unexpected = dcn.load_state_dict(plain.state_dict(), strict=False)
    assert missing and all('conv_offset' in k for k in missing) and not unexpected
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(plain.eval()(x)[-1], dcn.eval()(x)[-1], atol=1e-4)


@pytest.mark.parametrize('cfg, keys', [
    (dict(type='ResNetV1c', depth=50), ['stem.0.weight', 'stem.7.running_var', 'layer1.0.downsample.0.weight']),
    (dict(type='ResNetV1d', depth=50), ['stem.6.weight', 'layer1.0.downsample.1.weight',
                                        'layer2.0.downsample.1.weight', 'layer2.0.downsample.2.weight']),
])
def test_variant_keys_follow_mmdet(cfg, keys):
    state = MODELS.build(dict(base_channels=8, **cfg)).state_dict()
    assert all(k in state for k in keys)
    assert 'conv1.weight' not in state


def test_modules_swapped_after_construction_are_the_ones_that_run():
    """SyncBN's CPU fallback and conv+BN folding replace modules by attribute; forward must use the new ones."""
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8)).eval()
    model.bn1, model.pool2 = nn.Identity(), nn.Identity()
    assert model.stem_modules[1] is model.bn1 and model.exit_pools[0] is model.pool2
    with torch.no_grad():
        [out] = model(torch.rand(1, 3, 4, 32, 32))
    assert out.shape[2] == 4  # the identity replaced pool2: time is no longer halved


@pytest.mark.parametrize('norm_cfg', [None, dict(type='SyncBN')])  # SyncBN: every norm trained on
def test_partial_bn_trains_only_the_first_batch_norm(norm_cfg):
    model = _build(partial_bn=True, norm_eval=False, **({'norm_cfg': norm_cfg} if norm_cfg else {}))
    if norm_cfg:  # as the runner's CPU fallback leaves it
        from mmengine.model import revert_sync_batchnorm
        model = revert_sync_batchnorm(model)
    model.train()
    first, *others = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert first is model.bn1 and first.training and first.weight.requires_grad
    assert others and all(not m.training and not m.weight.requires_grad and not m.bias.requires_grad
                          for m in others)
    before = [m.running_mean.clone() for m in others]
    model(torch.randn(2, 3, 32, 32))
    assert all(torch.equal(m.running_mean, b) for m, b in zip(others, before))
    assert first.running_mean.abs().sum() > 0


def test_partial_bn_is_refused_in_3d():
    """mmaction2's ResNet3d has no partial_bn; here it was taken and did nothing (its rule reads BatchNorm2d)."""
    with pytest.raises(ValueError, match='ResNet3d: partial_bn is a 2D ResNet setting'):
        MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, partial_bn=True))


def test_an_init_cfg_list_keeps_the_deformable_offsets_at_zero():
    """mmdet's [Kaiming convs, Constant 1 norms] list gave the deformable convs random offsets (mmcv's DCN zeroes
    them again after its parent's list); the list decides the norms, as in mmdet (no zero_init_residual then)."""
    model = MODELS.build(dict(type='ResNet', depth=50, base_channels=8, dcn=dict(type='DCN'),
                              stage_with_dcn=(False, True, True, True),
                              init_cfg=[dict(type='Kaiming', layer='Conv2d'),
                                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]))
    model.init_weights()
    offsets = [m.conv_offset for m in model.modules() if hasattr(m, 'conv_offset')]
    assert len(offsets) == 13 and all(torch.all(o.weight == 0) and torch.all(o.bias == 0) for o in offsets)
    assert all(torch.all(b.last_norm.weight == 1) for s in model.stages() for b in s)


@pytest.mark.parametrize('depth, fallback, deformable', [(50, False, 4), (50, True, 0), (18, False, 2), (18, True, 0)])
def test_fallback_on_stride_follows_mmdet(depth, fallback, deformable):
    """mmdet's Bottleneck builds a plain conv in every block when fallback_on_stride is true (`if not
    self.with_dcn or fallback_on_stride`); only strided blocks fell back here, another architecture, and basic
    blocks (ResNet-18/34) kept their deformable convs."""
    from resbackbones.layers import DeformConv2dPack
    model = MODELS.build(dict(type='ResNet', depth=depth, base_channels=8, stage_with_dcn=(False, True, False, False),
                              dcn=dict(type='DCN', fallback_on_stride=fallback)))
    assert sum(isinstance(m, DeformConv2dPack) for m in model.layer2.modules()) == deformable


def test_mmcvs_old_deformable_groups_spelling_is_taken():
    # mmdet 2.x DCN configs: a TypeError when the model was built
    from resbackbones.layers import DeformConv2dPack
    model = MODELS.build(dict(type='ResNet', depth=50, base_channels=8, stage_with_dcn=(False, True, False, False),
                              dcn=dict(type='DCN', deformable_groups=2, fallback_on_stride=False)))
    convs = [m for m in model.layer2.modules() if isinstance(m, DeformConv2dPack)]
    assert convs and all(m.deform_groups == 2 for m in convs)
