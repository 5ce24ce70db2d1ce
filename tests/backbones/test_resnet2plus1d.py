"""ResNet2Plus1d: the factorised convs, its defaults, mmaction2's checkpoints, and its bad arguments."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.layers import LayerFactory
from resbackbones.layers.conv2plus1d import Conv2Plus1d
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402


@pytest.mark.parametrize('rule', ['block', 'conv'])
def test_torchvision_rules_factorise_every_spatiotemporal_conv_and_keep_the_rest_plain(rule):
    model = MODELS.build(dict(type='ResNet2Plus1d', depth=18, base_channels=8, mid_channels_from=rule))
    block = model.layer2[0]
    assert isinstance(block.conv1, Conv2Plus1d) and isinstance(block.conv2, Conv2Plus1d)
    assert block.conv1[0].stride == (1, 2, 2) and block.conv1[3].stride == (2, 1, 1)  # strides split too
    assert block.downsample[0].kernel_size == (1, 1, 1) and block.downsample[0].stride == (2, 2, 2)


def test_mmaction2s_rule_factorises_the_shortcut_too_with_its_widths():
    model = MODELS.build(dict(type='ResNet2Plus1d', depth=18, base_channels=8))
    block = model.layer2[0]
    short = block.downsample[0]
    assert isinstance(short, Conv2Plus1d) and short[0].stride == (1, 2, 2) and short[3].stride == (2, 1, 1)
    assert short.mid_channels == 3 * 8 * 16 // (8 + 3 * 16)  # int(3 in out / (in + 3 out)), t fixed at 3
    assert block.conv1.mid_channels == 27 * 8 * 16 // (9 * 8 + 3 * 16)  # each conv from its own in / out
    assert block.conv2.mid_channels == 27 * 16 * 16 // (9 * 16 + 3 * 16)
    assert isinstance(model.conv1, Conv2Plus1d) and isinstance(model.maxpool, nn.MaxPool3d)  # mmaction2's defaults
    assert not hasattr(model, 'pool2')
    spec = model.feature_specs[0]
    assert (spec.stride, spec.temporal_stride) == (32, 8)


def test_a_factorised_conv_keeps_the_full_convs_output_size():
    layers = LayerFactory(dims=3, conv_cfg=dict(type='Conv2plus1d'))
    full = layers.conv(4, 6, 3, 2, temporal_kernel=3, temporal_stride=2, conv_cfg=dict(type='Conv3d'))
    factorised = layers.conv(4, 6, 3, 2, temporal_kernel=3, temporal_stride=2)
    x = torch.randn(1, 4, 7, 9, 11)
    assert isinstance(factorised, Conv2Plus1d) and factorised(x).shape == full(x).shape == (1, 6, 4, 5, 6)
    assert factorised.mid_channels == (27 * 4 * 6) // (9 * 4 + 3 * 6)  # keeps the full conv's parameter count
    assert isinstance(layers.conv(4, 6, 1, temporal_kernel=3), nn.Conv3d)  # t x 1 x 1: nothing to factorise


@pytest.mark.parametrize('kwargs, message', [
    (dict(with_pool2=True), 'does not take with_pool2'),
    (dict(conv_cfg=dict(type='Conv3d')), "conv_cfg must be None or dict\\(type='Conv2plus1d'\\)"),
    (dict(mid_channels_from='layer'), 'mid_channels_from must be one of'),
    (dict(stem_mid_channels=0), 'stem_mid_channels must be an integer >= 1 or None'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNet2Plus1d', depth=18, base_channels=8, **kwargs))


@pytest.mark.parametrize('factory, message', [
    (LayerFactory(dims=2, conv_cfg=dict(type='Conv2plus1d')), 'needs 3D inputs'),
    (LayerFactory(dims=3, conv_cfg=dict(type='Conv2plus1d', mid=3)), 'takes only mid_channels_from'),
])
def test_bad_factories_name_themselves(factory, message):
    with pytest.raises(ValueError, match=message):
        factory.conv(4, 4, 3, temporal_kernel=3)


def test_mmaction2s_r2plus1d_config_arguments_are_accepted():
    model = MODELS.build(dict(type='ResNet2Plus1d', depth=34, base_channels=8, pretrained2d=False, norm_eval=False,
                              conv_cfg=dict(type='Conv2plus1d'), norm_cfg=dict(type='BN3d', requires_grad=True,
                                                                               eps=1e-3),
                              conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(1, 1, 1, 1),
                              spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2), zero_init_residual=False))
    assert [len(s) for s in model.stages()] == [3, 4, 6, 3] and model.layer1[0].bn1.eps == 1e-3


def _torchvision_r18_file(tmp_path, randomise):
    import torchvision
    model = randomise(torchvision.models.resnet18())
    torch.save(model.state_dict(), tmp_path / 'resnet18_torchvision.pth')
    return model.eval(), tmp_path / 'resnet18_torchvision.pth'


@torch.no_grad()
def test_a_2d_checkpoint_factorised_into_r2plus1d_reproduces_2d_on_a_still_clip(tmp_path, randomise):
    tv, path = _torchvision_r18_file(tmp_path, randomise)
    video = MODELS.build(dict(type='ResNet2Plus1d', depth=18, mid_channels_from='conv',
                              init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    video.init_weights()
    image = torch.rand(1, 3, 64, 64)
    [out] = video.eval()(image[:, :, None].expand(-1, -1, 8, -1, -1).contiguous())
    x = tv.maxpool(tv.relu(tv.bn1(tv.conv1(image))))
    expected = tv.layer4(tv.layer3(tv.layer2(tv.layer1(x))))
    assert out.shape[2] == 1  # temporal strides 2 in layers 2-4: 8 frames -> 1
    torch.testing.assert_close(out[:, :, 0], expected, rtol=1e-4, atol=1e-4)
    report = load_pretrained(video, str(path), strict=True)
    assert any('17 2D convs factorised into (2+1)D' in note for note in report.adapted), report.adapted
    moving = torch.rand(1, 3, 8, 64, 64)  # the temporal convs are identities, not averages: frames stay apart
    frames = torch.stack([tv.layer1(tv.maxpool(tv.relu(tv.bn1(tv.conv1(moving[:, :, t]))))) for t in range(8)], 2)
    video_layer1 = video.layer1(video.maxpool(video.relu(video.bn1(video.conv1(moving)))))
    torch.testing.assert_close(video_layer1, frames, rtol=1e-4, atol=1e-4)


def test_torchvisions_narrow_middle_widths_cannot_carry_a_2d_conv(tmp_path, randomise):
    from resbackbones.backbones import video_model_config
    _, path = _torchvision_r18_file(tmp_path, randomise)
    model = MODELS.build(video_model_config('r2plus1d_18'))
    before = model.conv1[0].weight.clone()
    with pytest.raises(ValueError, match=r'cannot factorise the 2D conv conv1 \(64, 3, 7, 7\) into \(2\+1\)D with '
                                         r'middle width 45 for 64 outputs'):
        load_pretrained(model, str(path))
    assert torch.equal(model.conv1[0].weight, before)  # all or nothing


@pytest.mark.parametrize('eps', [1e-5, 1e-3])  # 1e-3: mmaction2's r2plus1d_r34 config (SyncBN, eps=1e-3)
@torch.no_grad()
def test_mmaction2_r2plus1d_checkpoint_gives_its_outputs(tmp_path, randomise, eps):
    # norm_cfg's eps reached the middle norm of every (2+1)D conv too, which mmaction2 builds with BN3d's default:
    # its checkpoints loaded key for key and scored up to 0.2 apart
    theirs = randomise(ref.ResNet2Plus1d((1, 2, 1, 1), base_channels=8, eps=eps)).eval()
    state = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    assert 'backbone.layer2.0.downsample.conv.conv_s.weight' in state and 'backbone.conv1.conv.bn_s.weight' in state
    fc = randomise(nn.Linear(64, 4))
    state.update({'cls_head.fc_cls.weight': fc.weight, 'cls_head.fc_cls.bias': fc.bias})
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'r2plus1d.pth')
    ours = MODELS.build(dict(type='Recognizer3D', backbone=dict(type='ResNet2Plus1d', depth=34, base_channels=8,
                                                                stage_blocks=(1, 2, 1, 1),
                                                                norm_cfg=dict(type='BN3d', eps=eps)),
                             cls_head=dict(type='I3DHead', num_classes=4, dropout_ratio=0.5)))
    report = load_pretrained(ours, str(tmp_path / 'r2plus1d.pth'), strict=True)
    assert not report.missing and not report.unexpected
    assert any('conv_s/bn_s/conv_t' in note for note in report.notes), report.notes
    clip = torch.rand(2, 3, 8, 32, 32)
    expected = fc(theirs(clip).mean(dim=(2, 3, 4)))  # mmaction2's I3DHead: average over T, H, W, then fc
    torch.testing.assert_close(ours.eval()(clip), expected, rtol=1e-4, atol=1e-4)
