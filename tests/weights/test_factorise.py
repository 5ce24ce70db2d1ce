"""2D -> (2+1)D factorisation: each of its two rules reproduces the 2D conv + norm (+ ReLU) exactly, and misfits
are named. The whole-network property (a still clip gives the 2D features) is in tests/backbones/test_resnet2plus1d.py.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights.factorise import _last_convs, factorise_2d


def _r2plus1d(**kwargs) -> nn.Module:
    return MODELS.build(dict(type='ResNet2Plus1d', depth=18, base_channels=8, mid_channels_from='conv', **kwargs))


def test_the_last_conv_of_each_block_is_the_one_before_its_last_norm():
    last = _last_convs(_r2plus1d())
    assert 'layer1.0.conv2' in last and 'layer4.1.conv2' in last
    assert not any(name.endswith('conv1') for name in last)


@pytest.mark.parametrize('conv', ['layer2.0.conv1', 'layer2.0.conv2'])  # ReLU follows / feeds the residual sum
@torch.no_grad()
def test_each_rule_reproduces_the_2d_conv_and_norm_on_a_still_clip(conv, randomise):
    model = randomise(_r2plus1d())
    cin = 8 if conv.endswith('conv1') else 16
    weight, norm = torch.randn(16, cin, 3, 3), randomise(nn.BatchNorm2d(16))
    bn_name = conv.replace('conv', 'bn')
    state = {f'{conv}.weight': weight, **{f'{bn_name}.{k}': v for k, v in norm.state_dict().items()}}
    new, came_from, count = factorise_2d(state, model)
    assert count == 1 and came_from[f'{conv}.3.weight'] == f'{conv}.weight'
    model.load_state_dict(new, strict=False)
    module, outer = model.get_submodule(conv), model.get_submodule(bn_name)
    image = torch.randn(1, cin, 9, 9)
    stride = module[0].stride[1]
    expected = norm(nn.functional.conv2d(image, weight, stride=stride, padding=1))
    got = outer(module(image[:, :, None].expand(-1, -1, 4, -1, -1)))
    if conv.endswith('conv1'):  # a ReLU follows in the block: equal after it
        expected, got = expected.relu(), got.relu()
    for t in range(got.shape[2]):
        torch.testing.assert_close(got[:, :, t], expected, rtol=1e-5, atol=1e-5)


def test_a_plain_3d_model_is_left_alone():
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8))
    state = {'conv1.weight': torch.randn(8, 3, 7, 7)}
    new, came_from, count = factorise_2d(state, model)
    assert count == 0 and new.keys() == state.keys() and came_from == {'conv1.weight': 'conv1.weight'}


def _resnet18_2d_state(**kwargs) -> dict:
    return MODELS.build(dict(type='ResNet', depth=18, base_channels=8, **kwargs)).state_dict()  # torchvision's keys


def test_mmaction2s_factorised_shortcuts_are_named_not_an_attribute_error():
    # the shortcut's norm was looked up as 'layer2.0.downsample.bn': AttributeError from torch's get_submodule
    model = MODELS.build(dict(type='ResNet2Plus1d', depth=18, base_channels=8))  # mid_channels_from='mmaction2'
    with pytest.raises(ValueError, match=r'cannot factorise the 2D conv layer2\.0\.downsample\.0 .* mid >= 2 x out '
                                         r'\(it feeds the residual sum\)'):
        factorise_2d(_resnet18_2d_state(), model)


def test_a_checkpoint_without_the_convs_batch_norm_is_named():
    # a GroupNorm or partial checkpoint: a bare KeyError 'bn1.running_mean'
    state = {k: v for k, v in _resnet18_2d_state().items() if not k.startswith('bn1.running')}
    with pytest.raises(ValueError, match=r"cannot factorise the 2D conv conv1: the checkpoint lacks its batch norm "
                                         r"\['bn1.running_mean', 'bn1.running_var'\]"):
        factorise_2d(state, _r2plus1d(stem_mid_channels=None))


def test_other_input_channels_are_named_as_such():
    # blamed on the middle width, which the user had already set as told
    with pytest.raises(ValueError, match=r'conv1: it reads 3 input channels, the model.s \(2\+1\)D conv 1'):
        factorise_2d(_resnet18_2d_state(), _r2plus1d(stem_mid_channels=None, in_channels=1))
