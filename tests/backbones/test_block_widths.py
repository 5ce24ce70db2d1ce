"""Per-block inner widths (``block_widths``): the branch convs take them, block outputs and specs do not change."""
import pytest
import torch

from resbackbones.registry import MODELS

R18 = [[3, 5], [7, 9], [1, 2], [4, 6]]
R50 = [[3, 5, 1], [7, 9, 2, 3], [1, 2, 3, 4, 5, 6], [4, 4, 8]]


@pytest.mark.parametrize('cfg, shape', [
    (dict(type='ResNet', depth=18, block_widths=R18), (1, 3, 64, 64)),
    (dict(type='ResNet', depth=50, style='caffe', block_widths=R50), (1, 3, 64, 64)),
    (dict(type='IResNet', depth=18, block_widths=R18), (1, 3, 64, 64)),
    (dict(type='ResNet3d', depth=50, block_widths=R50), (1, 3, 4, 32, 32)),
])
def test_block_widths_set_inner_channels_only(cfg, shape):
    model = MODELS.build(dict(cfg, base_channels=8)).eval()
    plain = MODELS.build({k: v for k, v in dict(cfg, base_channels=8).items() if k != 'block_widths'}).eval()
    blocks = [block for stage in model.stages() for block in stage]
    widths = [w for stage in cfg['block_widths'] for w in stage]
    for block, width in zip(blocks, widths, strict=True):
        for producer, per_channel, consumer in type(block).inner_layers:
            assert getattr(block, producer).out_channels == width
            assert getattr(block, consumer).in_channels == width
            assert all(p.shape[0] == width for name in per_channel for p in getattr(block, name).parameters())
    assert model.feature_specs == plain.feature_specs
    x = torch.randn(shape)
    assert [o.shape for o in model(x)] == [o.shape for o in plain(x)]
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in plain.parameters())


def test_default_widths_are_the_formula():
    explicit = MODELS.build(dict(type='ResNeXt', depth=50, base_channels=8, groups=2, base_width=4,
                                 block_widths=[[8] * 3, [16] * 4, [32] * 6, [64] * 3]))
    formula = MODELS.build(dict(type='ResNeXt', depth=50, base_channels=8, groups=2, base_width=4))
    assert {k: v.shape for k, v in explicit.state_dict().items()} == \
        {k: v.shape for k, v in formula.state_dict().items()}


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=18, block_widths=[[4, 4]] * 3), 'one list per built stage'),
    (dict(depth=18, block_widths=[[4, 4, 4]] + [[4, 4]] * 3), 'lengths [2, 2, 2, 2]'),
    (dict(depth=18, out_indices=(0, 1), block_widths=[[4, 4]] * 4), 'lengths [2, 2]'),
    (dict(depth=18, block_widths=[[4, 4], [4, 0], [4, 4], [4, 4]]), 'block_widths[1][1] must be an integer >= 1'),
    (dict(depth=18, block_widths=[[4, 4], [4, 4], [4.5, 4], [4, 4]]), 'block_widths[2][0]'),
    (dict(type='ResNeXt', depth=50, groups=4, block_widths=[[8] * 3, [16] * 4, [32, 30, 32, 32, 32, 32], [64] * 3]),
     'block_widths[2][1] = 30 is not divisible by groups=4'),
])
def test_bad_block_widths_are_named(kwargs, message):
    with pytest.raises(ValueError) as err:
        MODELS.build({'type': 'ResNet', 'base_channels': 8, **kwargs})
    assert message in str(err.value)
