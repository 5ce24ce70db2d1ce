"""ResNetAudio: mmaction2's audio ResNet on the core, with time / frequency factorised convs (ConvAudio)."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.layers import ConvAudio
from resbackbones.registry import MODELS
from resbackbones.weights.task_checkpoint import load_task_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402


def _audio(**kwargs) -> nn.Module:
    return MODELS.build(dict(type='ResNetAudio', depth=50, base_channels=4, **kwargs))


@pytest.mark.parametrize('factorize', [(1, 1, 0, 0), (0, 1, 0, 1)])
@torch.no_grad()
def test_mmaction2_audio_recognizer_checkpoint_gives_its_scores(tmp_path, randomise, factorize):
    theirs = randomise(ref.ResNetAudio((3, 4, 6, 3), base_channels=4, factorize=factorize))
    fc = nn.Linear(128, 3)
    state = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    state.update({f'cls_head.fc_cls.{k}': v for k, v in randomise(fc).state_dict().items()})
    assert 'backbone.layer1.0.conv2.conv.conv_1.bn.running_var' in state or not factorize[0]  # mmaction2's names
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'audioonly.pth')
    ours = MODELS.build(dict(type='RecognizerAudio', backbone=dict(type='ResNetAudio', depth=50, base_channels=4,
                                                                   factorize=factorize),
                             cls_head=dict(type='TSNAudioHead', num_classes=3))).eval()
    assert 'mmaction2' in load_task_checkpoint(ours, tmp_path / 'audioonly.pth')
    x = torch.rand(2, 1, 32, 16)
    expected = fc(theirs(x).mean(dim=(2, 3)))
    torch.testing.assert_close(ours(x[:, None], mode='tensor'), expected, rtol=1e-5, atol=1e-5)


def test_mmaction2_default_has_its_parameter_count():
    """mmaction2's ResNetAudio R50 (its audioonly config's) has 5,905,728 parameters."""
    with torch.device('meta'):
        backbone = MODELS.build(dict(type='ResNetAudio', depth=50))
    assert sum(p.numel() for p in backbone.parameters()) == 5_905_728


def test_factorised_blocks_split_the_middle_conv_and_the_others_leave_it_bare():
    backbone = _audio(factorize=(1, (0, 1, 0, 1), 0, 0))
    factorised, bare = backbone.layer2[1], backbone.layer2[0]
    assert isinstance(factorised.conv2, ConvAudio) and factorised.conv3.in_channels == 2 * 8
    assert isinstance(bare.conv2, nn.Conv2d) and bare.conv3.in_channels == 8
    assert not hasattr(bare, 'bn2')  # mmaction2: no norm or activation between the bare 3x3 conv and the last 1x1
    assert isinstance(backbone.conv1, ConvAudio) and backbone.conv1.op == 'sum'
    assert backbone.conv1.conv_1.conv.weight.shape[2:] == (9, 1)  # time
    assert backbone.conv1.conv_2.conv.weight.shape[2:] == (1, 9)  # frequency


@pytest.mark.parametrize('size', [(32, 16), (37, 20)])
@torch.no_grad()
def test_feature_specs_give_the_output_shapes(size):
    backbone = _audio(out_indices=(0, 1, 2, 3)).eval()
    outputs = backbone(torch.rand(1, 1, *size))
    for spec, out in zip(backbone.feature_specs, outputs):
        assert out.shape[1] == spec.channels
        assert out.shape[2:] == tuple(-(-s // spec.stride) for s in size)  # no stem downsampling, strides 1, 2, 2, 2


def test_frozen_stages_freeze_the_factorised_stem():
    backbone = _audio(frozen_stages=1)
    backbone.train()
    assert not any(p.requires_grad for p in backbone.conv1.parameters())
    assert not any(p.requires_grad for p in backbone.layer1.parameters())
    assert all(p.requires_grad for p in backbone.layer2.parameters())
    assert not backbone.bn1.training and backbone.layer2[0].bn1.training


@pytest.mark.parametrize('op, channels', [('concat', 10), ('sum', 5)])
def test_conv_audio_concatenates_or_sums_its_branches(op, channels):
    conv = ConvAudio(3, 5, 3, op)
    out = conv(torch.rand(2, 3, 12, 8))
    assert out.shape == (2, channels, 12, 8) and conv.out_channels == channels
    along_time, along_frequency = conv.conv_1(torch.rand(1, 3, 12, 8)), conv.conv_2(torch.rand(1, 3, 12, 8))
    assert along_time.shape == along_frequency.shape == (1, 5, 12, 8)


@pytest.mark.parametrize('kwargs, message', [
    (dict(conv1_stride=2), 'conv1_stride must be 1'),
    (dict(depth=18), 'depth'),
    (dict(act_cfg=dict(type='GELU')), 'act_cfg must be ReLU'),
    (dict(dilations=(1, 2, 1, 1)), 'a factorised block has no dilation'),
    (dict(factorize=(1, 1, 0)), 'factorize'),
    (dict(factorize=(1, (1, 0), 0, 0)), r'factorize\[1\]'),
    (dict(conv1_kernel=8), 'conv1_kernel must be an odd integer'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNetAudio', **{'depth': 50, 'base_channels': 4, **kwargs}))


def test_conv_audio_refuses_an_unknown_op_and_an_even_kernel():
    with pytest.raises(ValueError, match="op must be one of"):
        ConvAudio(3, 5, 3, 'max')
    with pytest.raises(ValueError, match='kernel_size must be an odd integer'):
        ConvAudio(3, 5, 4)
