"""Channel pruning: the kept channels carry the whole function, the right channels go, widths are config data."""
import pytest
import torch

from resbackbones.analysis import count_params
from resbackbones.deploy.prune import channel_scores, kept_width, prune_model
from resbackbones.registry import MODELS

R18 = dict(type='ResNet', depth=18, base_channels=8, in_channels=1)
CASES = {
    'classifier_r18': (dict(type='ImageClassifier', backbone=R18, num_classes=3), (2, 1, 32, 32)),
    'backbone_r50': (dict(type='ResNet', depth=50, base_channels=8, style='caffe'), (2, 3, 32, 32)),
    'iresnet18': (dict(type='IResNet', depth=18, base_channels=8, out_indices=(2, 3)), (2, 3, 32, 32)),
    'resnet3d_r50': (dict(type='ResNet3d', depth=50, base_channels=8), (1, 3, 4, 32, 32)),
}


def run(model, x):
    with torch.no_grad():
        out = model.tensor(x) if hasattr(model, 'tensor') else model(x)
    return out if isinstance(out, tuple) else (out,)


def blocks_of(model):
    return [block for stage in getattr(model, 'backbone', model).stages() for block in stage]


def kill_channels(model, ratio, criterion, gen):
    """Silence width - kept channels of every inner layer, at random, so that each outputs exactly 0 after its
    per-channel modules: BN scale and shift zeroed ('bn'), or the conv filter, BN shift and mean zeroed ('l1')."""
    with torch.no_grad():
        for block in blocks_of(model):
            for producer, per_channel, _ in type(block).inner_layers:
                conv, norm = getattr(block, producer), getattr(block, per_channel[0])
                width = conv.out_channels
                dead = torch.randperm(width, generator=gen)[:width - kept_width(width, ratio)]
                norm.bias[dead] = 0
                if criterion == 'bn':
                    norm.weight[dead] = 0
                else:
                    conv.weight[dead] = 0
                    norm.running_mean[dead] = 0


@pytest.mark.parametrize('criterion', ['bn', 'l1'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_pruning_silenced_channels_keeps_outputs(name, criterion, randomise):
    cfg, shape = CASES[name]
    model = randomise(MODELS.build(cfg))
    kill_channels(model, 0.5, criterion, torch.Generator().manual_seed(3))
    pruned, backbone_cfg = prune_model(model, cfg, 0.5, criterion)
    x = torch.randn(shape)
    for want, got in zip(run(model, x), run(pruned, x), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    widths = [getattr(b, type(b).inner_layers[0][0]).out_channels for b in blocks_of(pruned)]
    assert widths == [w for stage in backbone_cfg['block_widths'] for w in stage]
    assert widths == [kept_width(getattr(b, type(b).inner_layers[0][0]).out_channels, 0.5)
                      for b in blocks_of(model)]
    assert not pruned.training


@pytest.mark.parametrize('name', sorted(CASES))
def test_ratio_zero_is_the_same_model(name, randomise):
    cfg, shape = CASES[name]
    model = randomise(MODELS.build(cfg))
    pruned, _ = prune_model(model, cfg, 0.0)
    x = torch.randn(shape)
    assert all(torch.equal(a, b) for a, b in zip(run(model, x), run(pruned, x), strict=True))
    assert count_params(pruned) == count_params(model)


def test_params_drop_as_computed_and_cfg_rebuilds_the_pruned_model(randomise):
    cfg = CASES['classifier_r18'][0]
    model = randomise(MODELS.build(cfg))
    pruned, backbone_cfg = prune_model(model, cfg, 0.5)
    # A basic block (in, planes) losing r of its conv1 channels loses r * (9 in + 2 + 9 planes) parameters.
    removed, cin = 0, 8
    for planes in (8, 16, 32, 64):
        for block_in in (cin, planes):
            removed += planes // 2 * (9 * block_in + 2 + 9 * planes)
        cin = planes
    assert count_params(model) - count_params(pruned) == removed
    rebuilt = MODELS.build(dict(cfg, backbone=backbone_cfg))
    rebuilt.load_state_dict(pruned.state_dict(), strict=True)
    assert rebuilt.backbone.feature_specs == model.backbone.feature_specs
    assert backbone_cfg['init_cfg'] is None and 'block_widths' not in cfg['backbone']


def test_bn_criterion_ranks_by_scale_magnitude():
    block = MODELS.build(dict(R18, out_indices=(0,))).layer1[0]
    with torch.no_grad():
        block.bn1.weight.copy_(torch.tensor([0.5, -3.0, 0.1, 2.0, -0.2, 1.0, 0.0, 0.3]))
    assert channel_scores(block, 'bn')[0].argsort(descending=True)[:3].tolist() == [1, 3, 5]


@pytest.mark.parametrize('width, ratio, divisor, kept', [
    (64, 0.5, 1, 32), (64, 0.75, 1, 16), (10, 0.75, 1, 3), (10, 0.75, 4, 4), (8, 0.99, 1, 1), (8, 0.0, 16, 8),
    (8, 0.0, 3, 6), (10, 0.1, 4, 8), (64, 0.5, 8, 32), (9, 0.99, 3, 3),  # 8 of 8 with divisor 3: no multiple
    (64, 0.07, 8, 56), (8, 0.3, 4, 4), (64, 0.44, 8, 32)])  # rounded twice: 64, 8 and 40, not the nearest
def test_kept_width(width, ratio, divisor, kept):
    assert kept_width(width, ratio, divisor) == kept


@pytest.mark.parametrize('cfg, kwargs, message', [
    (R18, dict(ratio=1.0), 'ratio must be a number in [0, 1)'),
    (R18, dict(ratio=-0.1), 'ratio must be a number in [0, 1)'),
    (R18, dict(ratio=0.5, criterion='l2'), "criterion must be one of ['bn', 'l1']"),
    (R18, dict(ratio=0.5, divisor=0), 'divisor must be an integer >= 1'),
    (dict(type='ResNeXt', depth=50, base_channels=8, groups=2), dict(ratio=0.5),
     'cannot prune layer1.0.conv2: grouped conv (groups=2, ResNeXt or channel-separated)'),
    (dict(type='ResNet3dCSN', depth=50, base_channels=8), dict(ratio=0.5),
     'cannot prune layer1.0.conv2: grouped conv (groups=8, ResNeXt or channel-separated)'),
    (dict(R18, norm_cfg=dict(type='GN', num_groups=2)), dict(ratio=0.5), 'cannot prune layer1.0.bn1: a GroupNorm'),
    (dict(type='TANet', depth=50, base_channels=8, num_segments=3), dict(ratio=0.5),
     "cannot prune layer1.0: its inner addon ['tam'] (TANet's TAM)"),
])
def test_bad_inputs_are_named(cfg, kwargs, message):
    with pytest.raises(ValueError) as err:
        prune_model(MODELS.build(cfg), cfg, **kwargs)
    assert message in str(err.value)


def test_not_a_resnet_is_refused():
    with pytest.raises(ValueError, match='needs a ResNet backbone'):
        prune_model(torch.nn.Linear(2, 2), dict(type='Linear'), 0.5)
