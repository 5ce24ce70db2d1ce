"""BlockAddon: the core's per-block modules are placed as their data says, and bad ones are named."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from resbackbones.backbones.addons import BlockAddon
from resbackbones.registry import MODELS


class Scale(nn.Module):
    """Multiplies by ``factor``; records the channels it was built for."""

    def __init__(self, channels: int, factor: float = 2.0):
        super().__init__()
        self.channels, self.factor = channels, factor

    def forward(self, x):
        return x * self.factor


def _resnet18(addons, stage=1):
    per_stage = [((), ()) for _ in range(4)]
    per_stage[stage] = (tuple(addons), ())
    torch.manual_seed(0)
    return MODELS.build(dict(type='ResNet', depth=18, base_channels=8, zero_init_residual=False,
                            block_addons=per_stage)).eval()


@pytest.mark.parametrize('place, channels', [('input', 8), ('branch', 8), ('inner', 16), ('output', 16)])
@torch.no_grad()
def test_each_place_runs_where_it_says(place, channels):
    model, plain = _resnet18([BlockAddon('extra', place, Scale)]), _resnet18([])
    block, ref = model.layer2[0], plain.layer2[0]
    assert block.extra.channels == channels  # input channels before the block, conv1's inside, output after it
    x = torch.randn(1, 8, 8, 8)
    identity = ref.downsample(x)
    if place == 'input':
        expected = ref(2 * x)
    elif place == 'branch':
        expected = torch.relu(ref.residual(2 * x) + identity)
    elif place == 'inner':  # between conv1's activation and conv2
        expected = torch.relu(ref.bn2(ref.conv2(2 * torch.relu(ref.bn1(ref.conv1(x))))) + identity)
    else:
        expected = 2 * ref(x)
    torch.testing.assert_close(block(x), expected)
    assert not torch.allclose(block(x), ref(x))


def test_an_addon_cannot_replace_a_layer_of_the_block():
    with pytest.raises(ValueError, match="name 'conv1' is already a member of BasicBlock"):
        _resnet18([BlockAddon('conv1', 'output', Scale)])


@pytest.mark.parametrize('kwargs, message', [
    (dict(name='x', place='middle'), 'place must be one of'),
    (dict(name='non-local', place='output'), 'must be a Python identifier'),
])
def test_bad_addons_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BlockAddon(module=Scale, **kwargs)


@pytest.mark.parametrize('addons, message', [
    ([((), ())] * 3, r'block_addons needs one entry per stage \(4\)'),
    ([((), ())] + [((),)] * 3, r'block_addons\[1\] needs one tuple per block \(2\)'),
    ([(('x',), ())] + [((), ())] * 3, r'block_addons\[0\]\[0\] must hold BlockAddon objects'),
])
def test_misfit_block_addons_are_named(addons, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNet', depth=18, base_channels=8, block_addons=addons))
