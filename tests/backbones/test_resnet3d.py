"""ResNet3d: mmaction2's arguments on the shared core, I3D inflation of 2D weights, and I3D-NL checkpoints.

The inflation test is the I3D property itself: a torchvision ResNet-18 with random weights and batch-norm
statistics, saved in torchvision's format, inflated into ResNet3d, must reproduce the 2D network's layer4 output
on a clip of identical frames, at the frames that the temporal zero padding cannot reach.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

FRAMES = 35  # the stem + 16 inflated convs (mmaction2 inflates both of a basic block's) reach 17 frames each way


def _torchvision_r18_file(tmp_path, randomise):
    model = randomise(torchvision.models.resnet18())
    path = tmp_path / 'resnet18_torchvision.pth'
    torch.save(model.state_dict(), path)
    return model.eval(), path


def _layer4_2d(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


@pytest.mark.parametrize('in_channels', [3, 1])
@torch.no_grad()
def test_inflated_torchvision_weights_reproduce_2d_on_a_still_clip(tmp_path, in_channels, randomise):
    tv, path = _torchvision_r18_file(tmp_path, randomise)
    video = MODELS.build(dict(type='ResNet3d', depth=18, in_channels=in_channels, with_pool2=False,
                              init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    video.init_weights()
    video.eval()
    image = torch.rand(1, 3, 64, 64)
    if in_channels == 1:  # a grey frame: RGB weights are summed over colour, as for 2D models
        image = image[:, :1].expand(1, 3, 64, 64)
    clip = image[:, :in_channels, None].expand(-1, -1, FRAMES, -1, -1).contiguous()
    [out] = video(clip)
    expected = _layer4_2d(tv, image)
    centre = FRAMES // 2
    torch.testing.assert_close(out[:, :, centre], expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(out[:, :, 0], expected, atol=1e-3)  # the border frames do see the padding


def test_the_report_says_what_was_inflated(tmp_path, randomise):
    _, path = _torchvision_r18_file(tmp_path, randomise)
    video = MODELS.build(dict(type='ResNet3d', depth=18, inflate=(1, (1, 0), 0, 0), conv1_kernel=(5, 7, 7)))
    report = load_pretrained(video, str(path), strict=True)
    # 20 convs: the stem (t=5), both convs of 3 inflated blocks (t=3), the other 13 (t=1, a plain reshape)
    assert any('20 conv kernels inflated 2D -> 3D' in note and '1 x t=5' in note and '6 x t=3' in note
               for note in report.adapted), report.adapted
    assert not report.missing and not report.unexpected


def test_mmaction2_i3d_settings_build_the_i3d_layout():
    model = MODELS.build(dict(type='ResNet3d', depth=50, base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=2,
                              pool1_stride_t=2, norm_cfg=dict(type='BN3d', requires_grad=True),
                              inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))))
    assert model.conv1.kernel_size == (5, 7, 7) and model.conv1.stride == (2, 2, 2)
    assert model.layer2[0].conv1.kernel_size == (3, 1, 1) and model.layer2[1].conv1.kernel_size == (1, 1, 1)
    assert model.layer4[1].conv1.kernel_size == (3, 1, 1) and model.layer4[0].conv2.kernel_size == (1, 3, 3)
    assert isinstance(model.bn1, nn.BatchNorm3d)
    assert [s.temporal_stride for s in model.all_specs()] == [2, 8, 8, 8, 8]  # stem, pool1, pool2 halve T
    style = MODELS.build(dict(type='ResNet3d', depth=50, base_channels=8, inflate_style='3x3x3'))
    assert style.layer1[0].conv1.kernel_size == (1, 1, 1) and style.layer1[0].conv2.kernel_size == (3, 3, 3)


def test_the_first_stage_feature_is_the_one_pool2_halved_as_in_mmaction2():
    # mmaction2 pools layer1's output before collecting it; ours returned it unpooled (twice the frames for a neck)
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, out_indices=(0, 1, 2, 3))).eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 9, 32, 32))
    assert [tuple(o.shape[2:]) for o in outs] == [(4, 8, 8), (4, 4, 4), (4, 2, 2), (4, 1, 1)]
    assert [spec.temporal_output_size(9) for spec in model.feature_specs] == [4, 4, 4, 4]


def test_i3d_r50_has_mmaction2s_parameter_count():
    model = MODELS.build(dict(type='ResNet3d', depth=50, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                              inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))))
    params = sum(p.numel() for p in model.parameters())
    # ResNet-50's 23,508,032 plus (t - 1) extra copies of each inflated kernel: 3,715,840
    assert params == 27_223_872
    assert params + 2048 * 400 + 400 == 28_043_472  # mmaction2's metafile for i3d_r50 (with its 400-class head)


def test_frozen_stages_and_norm_modes_work_in_3d():
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, frozen_stages=1)).train()
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.bn1.training and model.layer2[0].bn1.training  # norm_eval defaults to False for video


@pytest.mark.parametrize('kwargs, message', [
    (dict(strides=(1, 2, 2, 2)), 'does not take strides: use spatial_strides'),
    (dict(dcn=dict(type='DCN')), 'does not take dcn: not available in 3D'),
    (dict(conv1_kernel=(4, 7, 7)), r'conv1_kernel must be \(t, 7, 7\) with an odd t'),
    (dict(conv1_kernel=(3, 5, 5)), r'conv1_kernel must be \(t, 7, 7\)'),
    (dict(inflate=(1, (1, 0, 1), 1, 1)), r'inflate\[1\] must be 0, 1 or a sequence of 2'),
    (dict(inflate=(1, 1, 1)), 'inflate needs one entry per stage'),
    (dict(temporal_strides=(1, 2)), 'temporal_strides needs one entry per stage'),
    # built, then failed in forward ('non-positive stride', or conv3d's argument error for a float)
    (dict(temporal_strides=(1, 0, 1, 1)), r'temporal_strides must be integers >= 1, one per stage'),
    (dict(temporal_strides=(1, 2.0, 1, 1)), r'temporal_strides must be integers >= 1'),
    (dict(conv1_kernel=(3, 7)), r'conv1_kernel must be \(t, 7, 7\)'),
    (dict(inflate_style='2x1x1'), 'inflate_style must be one of'),
    (dict(pool1_stride_t=0), 'pool1_stride_t must be an integer >= 1'),
    (dict(norm_cfg=dict(type='BN2d')), "type 'BN2d' is for 2D inputs"),
    (dict(block_addons=()), 'does not take block_addons: they are built from non_local'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, **kwargs))


@pytest.mark.parametrize('frames, expected', [(12, 1), (13, 2), (16, 2), (17, 2)])
def test_pool2_rounds_down_like_mmaction2(frames, expected):
    """mmaction2's I3D: T -> conv1 /2 (up) -> pool1 /2 (up) -> pool2 /2 (down); the specs give the same length."""
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=2,
                              pool1_stride_t=2)).eval()
    with torch.no_grad():
        [out] = model(torch.rand(1, 3, frames, 32, 32))
    assert out.shape[2] == expected == model.feature_specs[0].temporal_output_size(frames)


def test_mmaction2_argument_names_are_accepted():
    model = MODELS.build(dict(type='ResNet3d', depth=50, base_channels=8, pretrained2d=True, stage_blocks=(1, 1, 2, 1),
                              conv1_stride_s=1, pool1_stride_s=1, with_pool1=False, act_cfg=dict(type='ReLU')))
    assert [len(model.get_submodule(f'layer{i}')) for i in range(1, 5)] == [1, 1, 2, 1]
    assert model.conv1.stride == (1, 1, 1) and isinstance(model.maxpool, nn.Identity)
    assert model.feature_specs[0].stride == 8
    with pytest.raises(ValueError, match="act_cfg must be dict\\(type='ReLU'\\)"):
        MODELS.build(dict(type='ResNet3d', depth=18, act_cfg=dict(type='GELU')))


def test_basic_blocks_inflate_both_convs_like_mmaction2():
    model = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, inflate=(1, 0, 0, 0)))
    assert model.layer1[0].conv1.kernel_size == model.layer1[0].conv2.kernel_size == (3, 3, 3)
    assert model.layer2[0].conv2.kernel_size == (1, 3, 3)


NL_CFG = dict(sub_sample=True, use_scale=False, norm_cfg=dict(type='BN3d', requires_grad=True),
              mode='embedded_gaussian')  # mmaction2's i3d_imagenet-pretrained-r50-nl-embedded-gaussian
TINY_NL = dict(stage_blocks=(1, 2, 2, 1), inflate=((1,), (1, 0), (1, 0), (0,)), non_local=((0,), (0, 1), (1, 1), (0,)))


@pytest.mark.parametrize('mode', ['embedded_gaussian', 'dot_product'])
@torch.no_grad()
def test_mmaction2_i3d_nl_checkpoint_gives_its_outputs(tmp_path, randomise, mode):
    cfg = {**NL_CFG, 'mode': mode}
    theirs = randomise(ref.ResNet3d(base_channels=8, non_local_cfg=cfg, **TINY_NL))
    gen = torch.Generator().manual_seed(2)
    for m in theirs.modules():  # the non-local embeddings have biases, which randomise leaves alone
        if isinstance(m, nn.Conv3d) and m.bias is not None:
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    path = tmp_path / 'i3d_nl_mmaction2.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in theirs.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, path)
    ours = MODELS.build(dict(type='ResNet3d', depth=50, base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=2,
                             pool1_stride_t=2, non_local_cfg=cfg, **TINY_NL))
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    # g, theta, phi: weight and bias each; conv_out: a weight and its BN's five tensors
    assert sum(k.startswith('layer3.1.non_local_block.') for k in ours.state_dict()) == 12
    clip = torch.rand(1, 3, 16, 64, 64)
    [out] = ours.eval()(clip)
    expected = theirs(clip)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
    without = MODELS.build(dict(type='ResNet3d', depth=50, base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=2,
                                pool1_stride_t=2, **{**TINY_NL, 'non_local': (0, 0, 0, 0)}))
    load_pretrained(without, str(path))  # the same weights without the non-local blocks give other outputs
    assert not torch.allclose(without.eval()(clip)[0], expected, atol=1e-3)


def test_non_local_blocks_go_where_the_flags_say_and_start_as_identity():
    kwargs = dict(depth=50, base_channels=8, **TINY_NL)
    model = MODELS.build(dict(type='ResNet3d', non_local_cfg=NL_CFG, **kwargs)).eval()
    flagged = sorted(n for n, _ in model.named_modules() if n.endswith('non_local_block'))
    assert flagged == ['layer2.1.non_local_block', 'layer3.0.non_local_block', 'layer3.1.non_local_block']
    torch.manual_seed(0)
    plain = MODELS.build(dict(type='ResNet3d', **{**kwargs, 'non_local': (0, 0, 0, 0)})).eval()
    plain.load_state_dict(model.state_dict(), strict=False)
    clip = torch.rand(1, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(clip)[0], plain(clip)[0])  # zero-initialised conv_out norm


@pytest.mark.parametrize('non_local, message', [
    ((0, (0, 1, 1), 0, 0), r'non_local\[1\] must be 0, 1 or a sequence of 2'),
    ((0, 0, 0), 'non_local needs one entry per stage'),
])
def test_bad_non_local_flags_name_themselves(non_local, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, non_local=non_local))


def test_the_i3d_nl_config_places_mmaction2s_non_local_blocks():
    from mmengine.config import Config
    path = Path(__file__).resolve().parents[2] / 'configs/recognition/i3d/' \
        'i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py'
    cfg = Config.fromfile(str(path)).model.backbone.to_dict()
    cfg.update(base_channels=8, init_cfg=None)
    model = MODELS.build(cfg)
    flagged = sorted(n for n, _ in model.named_modules() if n.endswith('non_local_block'))
    assert flagged == [f'layer{s}.{b}.non_local_block' for s, b in ((2, 1), (2, 3), (3, 1), (3, 3), (3, 5))]
    block = model.layer3[5].non_local_block
    assert block.mode == 'embedded_gaussian' and block.sub_sample and not block.use_scale
    assert isinstance(block.conv_out.bn, nn.BatchNorm3d)


def test_i3d_nl_r50_has_mmaction2s_parameter_count():
    from resbackbones.backbones import video_model_config
    params = sum(p.numel() for p in MODELS.build(video_model_config('i3d_nl_r50')).parameters())
    assert params == 34_578_240  # I3D R50's 27,223,872 plus five non-local blocks (two at 512, three at 1024 ch)
    assert round((params + 2048 * 400 + 400) / 1e6, 1) == 35.4  # mmaction2's metafile: "Parameters: 35.4M"


@pytest.mark.parametrize('cfg, shape, message', [
    # conv3d read a batch of frames as one unbatched clip: "expected ... to have 3 channels, but got 2"
    (dict(type='ResNet3d'), (2, 3, 32, 32), r'takes \(N, C, T, H, W\) inputs; got shape \(2, 3, 32, 32\): stack'),
    (dict(type='ResNetTSM', num_segments=8), (1, 3, 8, 32, 32), r'ResNetTSM takes \(N, C, H, W\) inputs'),
    # torch: "Output size is too small" from pool2, naming no input size
    (dict(type='ResNet3d'), (1, 3, 1, 32, 32), r'T=1 x H=32 x W=32 is too small: layer1 \(temporal stride 2'),
    (dict(type='ResNet3d', conv1_stride_t=2, pool1_stride_t=2), (1, 3, 3, 32, 32), r'T=3 x H=32 x W=32 is too small'),
])
def test_a_wrong_layout_or_too_few_frames_names_what_is_needed(cfg, shape, message):
    model = MODELS.build(dict(depth=18, base_channels=8, **cfg)).eval()
    with pytest.raises(ValueError, match=message):
        model(torch.rand(shape))


def test_one_number_conv1_kernel_and_slowonly_pathway_arguments_as_mmaction2():
    """conv1_kernel=7 (mmaction2's _triple) was a TypeError; SlowOnly refused its pathway's lateral_inv=False."""
    with pytest.raises(ValueError, match=r'conv1_kernel must be \(t, 7, 7\) with an odd t; got \(5, 5, 5\)'):
        MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, conv1_kernel=5))
    assert MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8, conv1_kernel=7)).conv1.kernel_size == (7, 7, 7)
    MODELS.build(dict(type='ResNet3dSlowOnly', depth=18, base_channels=8, lateral_inv=False))
