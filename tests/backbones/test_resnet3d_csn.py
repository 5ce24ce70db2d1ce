"""ResNet3dCSN: mmaction2's channel-separated video ResNets on the core's channel-separated bottleneck."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

TINY = dict(stage_blocks=(1, 2, 1, 1), base_channels=8)


def _csn(**kwargs) -> nn.Module:
    return MODELS.build(dict(type='ResNet3dCSN', depth=50, with_pool2=False, **kwargs))


@pytest.mark.parametrize('mode', ['ir', 'ip'])
@torch.no_grad()
def test_mmaction2_csn_checkpoint_gives_its_outputs(tmp_path, randomise, mode):
    theirs = randomise(ref.ResNet3dCSN(stage_blocks=TINY['stage_blocks'], base_channels=8, mode=mode))
    path = tmp_path / f'{mode}csn_mmaction2.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in theirs.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, path)
    ours = _csn(bottleneck_mode=mode, **TINY)
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    assert any('CSN names' in note for note in report.notes)
    clip = torch.rand(2, 3, 8, 48, 48)
    [out] = ours.eval()(clip)
    expected = theirs(clip)
    assert out.shape == expected.shape == (2, 256, 1, 2, 2)  # temporal strides 1, 2, 2, 2: 8 frames -> 1
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('mode, params', [('ir', 12_311_552), ('ip', 13_576_576)])
def test_csn_r50_has_mmaction2s_parameter_count(mode, params):
    # counted on mmaction2's own ResNet3dCSN(depth=50, bottleneck_mode=mode) (mmaction2 1.2.0)
    assert sum(p.numel() for p in _csn(bottleneck_mode=mode).parameters()) == params


@pytest.mark.parametrize('mode', ['ir', 'ip'])
def test_the_3x3x3_conv_is_depthwise_and_ip_adds_a_pointwise_conv(mode):
    block = _csn(bottleneck_mode=mode, **TINY).layer2[0]
    assert block.conv2.groups == block.conv2.in_channels == block.conv2.out_channels == 16
    assert block.conv2.kernel_size == (3, 3, 3) and block.conv2.stride == (2, 2, 2)
    assert block.bn2.eps == 1e-3
    assert hasattr(block, 'conv2_interaction') == (mode == 'ip')
    if mode == 'ip':
        assert block.conv2_interaction.kernel_size == (1, 1, 1) and block.conv2_interaction.groups == 1


def test_feature_specs_match_the_outputs():
    model = _csn(out_indices=(0, 1, 2, 3), **TINY).eval()
    outs = model(torch.rand(1, 3, 16, 64, 64))
    for out, spec in zip(outs, model.feature_specs):
        assert out.shape[1] == spec.channels
        assert out.shape[2] == 16 // spec.temporal_stride and out.shape[3] == 64 // spec.stride


def test_bn_frozen_stops_norm_parameters_only():
    model = _csn(norm_eval=True, bn_frozen=True, **TINY).train()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm3d)]
    assert norms and all(not p.requires_grad for m in norms for p in m.parameters())
    assert all(not m.training for m in norms)
    assert all(m.weight.requires_grad for m in model.modules() if isinstance(m, nn.Conv3d))


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=18), 'depth must be one of'),
    (dict(bottleneck_mode='xy'), 'bottleneck_mode must be one of'),
    (dict(bn_frozen=True), 'bn_frozen=True needs norm_eval=True'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict({'type': 'ResNet3dCSN', 'depth': 50, **TINY}, **kwargs))


def test_basic_blocks_have_no_channel_separated_form():
    with pytest.raises(ValueError, match='BasicBlock has no channel-separated form'):
        MODELS.build(dict(type='ResNet', depth=18, channel_separated='ir'))
