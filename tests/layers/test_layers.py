import pytest
import torch
from torch import nn

from resbackbones.layers import FrozenBatchNorm, LayerFactory, build_norm_layer


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
