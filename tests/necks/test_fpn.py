"""FPN: shapes and strides from the inputs, torchvision's arithmetic, extra levels, and argument errors."""
from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from resbackbones.necks import FPN

CHANNELS, STRIDES = [8, 16, 32, 64], [4, 8, 16, 32]


def inputs(size: int = 64) -> list[torch.Tensor]:
    return [torch.randn(2, c, size // s, size // s) for c, s in zip(CHANNELS, STRIDES)]


@pytest.mark.parametrize('num_outs, extra', [(4, False), (5, False), (5, 'on_input'), (6, 'on_output'),
                                             (5, 'on_lateral')])
def test_outputs_match_declared_specs(num_outs, extra):
    fpn = FPN(CHANNELS, 16, num_outs, add_extra_convs=extra, in_strides=STRIDES)
    outs = fpn(inputs(64))
    assert len(outs) == num_outs == len(fpn.feature_specs)
    for out, spec in zip(outs, fpn.feature_specs):
        assert out.shape == (2, spec.channels, spec.output_size(64), spec.output_size(64))
    assert [s.name for s in fpn.feature_specs][:4] == ['p2', 'p3', 'p4', 'p5']


def test_start_level_skips_inputs():
    fpn = FPN(CHANNELS, 16, 3, start_level=1, in_strides=STRIDES)
    assert [s.stride for s in fpn.feature_specs] == [8, 16, 32]
    assert fpn(inputs())[0].shape[-1] == 8


def test_same_numbers_as_torchvision_fpn():
    ours = FPN(CHANNELS, 16, 5, in_strides=STRIDES)
    tv = FeaturePyramidNetwork(CHANNELS, 16, extra_blocks=LastLevelMaxPool())
    state = {}
    for i in range(4):
        for p in ('weight', 'bias'):
            state[f'inner_blocks.{i}.0.{p}'] = getattr(ours.lateral_convs[i], p)
            state[f'layer_blocks.{i}.0.{p}'] = getattr(ours.fpn_convs[i], p)
    tv.load_state_dict(state)
    x = inputs(96)
    expected = tv(OrderedDict((str(i), t) for i, t in enumerate(x)))
    for a, b in zip(ours(x), expected.values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('kwargs, match', [
    (dict(in_channels=[]), 'non-empty'), (dict(num_outs=2), 'fewer than the 4 inputs'),
    (dict(add_extra_convs='on_top'), 'add_extra_convs'), (dict(start_level=3, end_level=1), 'start_level'),
    (dict(in_strides=[4, 8]), 'one entry per input')])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FPN(**{**dict(in_channels=CHANNELS, out_channels=16, num_outs=5), **kwargs})


def test_wrong_number_of_inputs_is_reported():
    with pytest.raises(ValueError, match='expects 4 inputs'):
        FPN(CHANNELS, 16, 5)(inputs()[:3])
