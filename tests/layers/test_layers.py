import pytest
import torch
from torch import nn

from resbackbones.layers import FrozenBatchNorm, LayerFactory, build_norm_layer
from resbackbones.layers.deform_conv import DeformConv2dPack


@pytest.mark.parametrize('dims', [1, 2, 3])
def test_frozen_bn_matches_batch_norm_in_eval(dims):
    bn = build_norm_layer(dict(type='BN'), 4, dims)
    with torch.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean):
            t.normal_()
        bn.running_var.uniform_(0.5, 2)
    frozen = FrozenBatchNorm(4)
    frozen.load_state_dict(bn.state_dict())  # BN's num_batches_tracked is dropped, not an error
    x = torch.randn(2, 4, *(5,) * dims)
    assert torch.allclose(frozen(x), bn.eval()(x), atol=1e-6)
    assert not list(frozen.parameters())


def test_requires_grad_false_freezes_affine():
    bn = build_norm_layer(dict(type='BN', requires_grad=False), 4)
    assert not any(p.requires_grad for p in bn.parameters())


@pytest.mark.parametrize('dims, shape', [(2, (1, 4, 9, 9)), (3, (1, 4, 5, 9, 9))])
def test_factory_builds_matching_dims(dims, shape):
    layers = LayerFactory(dims=dims)
    conv = layers.conv(4, 8, 3, stride=2, temporal_kernel=3)
    assert conv.weight.dim() == dims + 2
    out = layers.norm(8)(conv(torch.randn(shape)))
    assert out.shape[-1] == 5 and out.shape[1] == 8
    assert isinstance(layers.avg_pool(2), nn.AvgPool2d if dims == 2 else nn.AvgPool3d)


@pytest.mark.parametrize('dims, conv_cfg, message', [
    # mmaction2's 2D spelling in a video network built Conv2d layers with (t, k, k) kernels; the forward then failed
    (3, dict(type='Conv'), "conv_cfg type 'Conv' is for 2D inputs, but this network's layers get 3D ones"),
    (3, dict(type='DCN'), "type 'DCN' is for 2D inputs"),
    (2, dict(type='Conv3d'), "conv_cfg type 'Conv3d' is for 3D inputs, but this network's layers get 2D ones"),
])
def test_a_conv_type_for_other_inputs_is_refused_when_built(dims, conv_cfg, message):
    with pytest.raises(ValueError, match=message):
        LayerFactory(dims=dims, conv_cfg=conv_cfg).conv(4, 8, 3)


def test_factory_dims_are_two_or_three():
    with pytest.raises(ValueError, match='dims must be 2 .* or 3 .*; got 1'):
        LayerFactory(dims=1)  # built Conv3d layers


@pytest.mark.parametrize('deform_groups', [0, 3, 1.5, True])
def test_deform_groups_must_divide_the_input_channels(deform_groups):
    # 3 of 8 channels: torchvision's kernel stopped at the first forward with an empty message
    with pytest.raises(ValueError, match=rf'deform_groups must be an integer >= 1 dividing in_channels=8; got '
                                         rf'{deform_groups!r}'):
        DeformConv2dPack(8, 8, 3, padding=1, deform_groups=deform_groups)


def test_grouped_deform_conv_runs():
    conv = DeformConv2dPack(8, 4, 3, padding=1, deform_groups=2, modulated=True)
    assert conv(torch.randn(1, 8, 9, 9)).shape == (1, 4, 9, 9)
