"""The feature contract: every backbone's real output shapes equal what its feature_specs declare."""
import pytest
import torch

import resbackbones
from resbackbones.backbones.rgbpose_conv3d import POSE_PATHWAY, RGB_PATHWAY
from resbackbones.registry import MODELS

H, W = 97, 131  # odd on purpose: every conv and pool must round the same way the specs say

TINY = dict(base_channels=8, out_indices=('stem', 0, 1, 2, 3))
VARIANTS = [
    dict(type='ResNet', depth=18),
    dict(type='ResNet', depth=50),
    dict(type='ResNet', depth=50, style='caffe'),
    dict(type='ResNetV1c', depth=50),
    dict(type='ResNetV1d', depth=50),
    dict(type='ResNeXt', depth=50, groups=4, base_width=4),
    dict(type='ResNet', depth=34, small_stem=True),
    dict(type='ResNet', depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)),
    dict(type='ResNetV1d', depth=50, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    dict(type='ResNet', depth=18, num_stages=3, out_indices=(0, 2), in_channels=1),
    dict(type='ResNet', depth=50, dcn=dict(type='DCNv2'), stage_with_dcn=(False, True, True, True)),
    dict(type='ResNet', depth=18, norm_cfg=dict(type='GN', num_groups=4)),
    dict(type='IResNet', depth=18),
    dict(type='IResNet', depth=50, in_channels=1),
    dict(type='ResNet3d', depth=18),
    dict(type='VolumeResNet', depth=18, in_channels=1),
    dict(type='VolumeResNet', depth=50, in_channels=1, depth_strides=(1, 1, 2, 2), depth_kernels=(1, 1, 3, 3),
         strides=(1, 2, 1, 1),
         dilations=(1, 1, 2, 4)),
    dict(type='ResNet3d', depth=50, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
         inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))),  # mmaction2's I3D R50
    dict(type='ResNet3d', depth=50, inflate_style='3x3x3', with_pool2=False, temporal_strides=(1, 2, 2, 1)),
    dict(type='ResNet3d', depth=50, stage_blocks=(1, 2, 2, 1), non_local=(0, (0, 1), (1, 0), 0),
         non_local_cfg=dict(sub_sample=True, mode='dot_product')),  # odd sizes through the 2x2 key pooling
    dict(type='ResNetTSM', depth=50, num_segments=2, non_local=(0, (0, 1, 0, 1), 0, 0)),  # batch 2 = 1 clip
    dict(type='ResNetTSM', depth=18, num_segments=2, shift_place='block', temporal_pool=True),
    dict(type='ResNetTIN', depth=50, num_segments=2, shift_div=2),
    dict(type='TANet', depth=50, num_segments=3),  # batch 3 = 1 clip
    dict(type='ResNet3dSlowOnly', depth=50, lateral=False),
    dict(type='OmniResNet', layers=(1, 2, 1, 1)),  # clips here; images in test_omni_images_match_the_specs
    dict(type='ResNet3dCSN', depth=50, bottleneck_mode='ip', with_pool2=False),  # temporal strides 1, 2, 2, 2
    dict(type='C2D', depth=50, out_indices=(0, 1, 2, 3)),  # an unpadded stem pool: sizes round down
    dict(type='ResNet2Plus1d', depth=18),
    dict(type='ResNet2Plus1d', depth=18, mid_channels_from='block'),
    dict(type='ResNet2Plus1d', depth=50, mid_channels_from='conv', with_pool1=False, stem_mid_channels=5,
         inflate_style='3x3x3', spatial_strides=(1, 2, 1, 2)),
    dict(type='ResNetAudio', depth=50, in_channels=1),  # (N, 1, time, frequency) spectrograms
]
# Two pathways: widths and depths inside the pathway dicts; clips a multiple of resample_rate long (the laterals
# align the pathways' frames only then), so 8 frames, the fast pathway on every other one.
SLOWFAST = dict(type='ResNet3dSlowFast', resample_rate=4, speed_ratio=2,
                slow_pathway=dict(type='resnet3d', depth=50, lateral=True, base_channels=16, conv1_kernel=(1, 7, 7),
                                  inflate=(0, 0, 1, 1), stage_blocks=(1, 1, 1, 1)),
                fast_pathway=dict(type='resnet3d', depth=50, base_channels=2, conv1_kernel=(5, 7, 7),
                                  stage_blocks=(1, 1, 1, 1)))
# RGB frames and pose heatmaps a quarter of their size, 4x as many heatmap frames (RGBPoseConv3D's defaults, narrowed)
RGBPOSE = dict(type='RGBPoseConv3D', rgb_pathway=dict(RGB_PATHWAY, stage_blocks=(1, 1, 1, 1), base_channels=8),
               pose_pathway=dict(POSE_PATHWAY, stage_blocks=(1, 1, 1), base_channels=4))
T = 7  # frames of the video inputs, odd too
# (N, C, T|D, H, W) inputs; ResNetTSM takes (N * segments, C, H, W)
CLIP_TYPES = ('ResNet3d', 'ResNet3dSlowOnly', 'OmniResNet', 'ResNet3dCSN', 'C2D', 'ResNet2Plus1d', 'VolumeResNet')


def _check(model, x):
    outs = model(x)
    specs = model.feature_specs
    assert isinstance(outs, tuple) and len(outs) == len(specs)
    for out, spec in zip(outs, specs):
        assert out.shape[1] == spec.channels, spec
        assert tuple(out.shape[-2:]) == (spec.output_size(x.shape[-2]), spec.output_size(x.shape[-1])), spec
        if x.dim() == 5:
            assert out.shape[2] == spec.temporal_output_size(x.shape[2]), spec
        else:
            assert spec.temporal_stride == 1, spec


@pytest.mark.parametrize('cfg', VARIANTS, ids=lambda c: '-'.join(f'{v}' for v in c.values())[:60])
def test_registered_backbones_match_their_specs(cfg):
    cfg = {**TINY, **cfg}
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        frames = (T,) if cfg['type'] in CLIP_TYPES else ()
        batch = max(2, cfg.get('num_segments', 1))  # frame backbones (TSM, TIN, TANet) take whole clips
        _check(model, torch.randn(batch, cfg.get('in_channels', 3), *frames, H, W))


@torch.no_grad()
def test_two_pathway_backbone_matches_its_specs():
    _check(MODELS.build(SLOWFAST).eval(), torch.randn(2, 3, 8, H, W))


@torch.no_grad()
def test_rgbpose_pathways_match_their_specs_each_against_its_input():
    model = MODELS.build(RGBPOSE).eval()
    frames, heatmaps = torch.randn(2, 3, 3, 96, 128), torch.randn(2, 17, 12, 24, 32)  # sizes that line up
    for out, spec, x in zip(model(frames, heatmaps), model.feature_specs, (frames, heatmaps)):
        assert out.shape[1] == spec.channels, spec
        assert tuple(out.shape[-2:]) == (spec.output_size(x.shape[-2]), spec.output_size(x.shape[-1])), spec
        assert out.shape[2] == spec.temporal_output_size(x.shape[2]), spec


@torch.no_grad()
def test_omni_images_match_the_specs():
    _check(MODELS.build(dict(type='OmniResNet', layers=(1, 2, 1, 1), **TINY)).eval(), torch.randn(2, 3, H, W))


def test_every_registered_backbone_is_covered():
    types = {cfg['type'] for cfg in VARIANTS + [SLOWFAST, RGBPOSE]}
    registered = {name for name, cls in MODELS.module_dict.items()
                  if hasattr(cls, 'feature_specs') and cls.__module__.startswith('resbackbones.backbones')}  # not necks
    assert registered <= types


@pytest.mark.slow
@pytest.mark.parametrize('name', resbackbones.list_models())
def test_named_models_match_their_specs(name):
    model = resbackbones.create_model(name, out_indices=('stem', 0, 1, 2, 3)).eval()
    with torch.no_grad():
        _check(model, torch.randn(1, 3, H, W))


@pytest.mark.parametrize('name', resbackbones.backbones.list_video_models())
def test_named_video_models_match_their_specs(name):
    overrides = dict(base_channels=8, out_indices=('stem', 0, 1, 2, 3))
    if name.startswith(('tsm', 'tin')):
        overrides['num_segments'] = 2
    if name.startswith('tin'):
        overrides['shift_div'] = 2  # 8 stem channels: 4 to interlace, one per channel group
    model = MODELS.build(resbackbones.backbones.video_model_config(name, **overrides)).eval()
    with torch.no_grad():
        _check(model, torch.randn(2, 3, *(() if name.startswith(('tsm', 'tin')) else (T,)), H, W))


@pytest.mark.parametrize('cfg, strides', [
    (dict(depth=18), (2, 4, 8, 16, 32)),
    (dict(depth=18, small_stem=True), (1, 1, 2, 4, 8)),
    (dict(depth=18, small_stem=True, stem_pool_stride=2), (1, 2, 4, 8, 16)),  # the explicit pool was dropped
    (dict(depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)), (2, 4, 8, 8, 8)),
])
def test_declared_strides_follow_the_architecture(cfg, strides):
    model = MODELS.build(dict(type='ResNet', base_channels=8, out_indices=('stem', 0, 1, 2, 3), **cfg))
    assert tuple(s.stride for s in model.feature_specs) == strides
    expansion = 4 if cfg['depth'] >= 50 else 1
    assert [s.channels for s in model.feature_specs] == [8] + [8 * 2**i * expansion for i in range(4)]


def test_stages_after_the_last_requested_are_not_built(tmp_path, randomise):
    import torchvision

    from resbackbones.weights import load_pretrained
    model = MODELS.build(dict(type='ResNet', depth=18, out_indices=(0, 1, 2)))
    assert not hasattr(model, 'layer4') and model.unbuilt_stages == ('layer4',)
    assert [s.name for s in model.all_specs()] == ['stem', 'layer1', 'layer2', 'layer3']
    assert not any(k.startswith('layer4.') for k in model.state_dict())
    full = randomise(torchvision.models.resnet18())
    torch.save(full.state_dict(), tmp_path / 'r18.pth')
    report = load_pretrained(model, str(tmp_path / 'r18.pth'), strict=True)
    dropped = [k for k, why in report.ignored if why.startswith('stage not built')]
    assert len(dropped) == len([k for k in full.state_dict() if k.startswith('layer4.')]) and not report.unexpected
    torch.testing.assert_close(model.layer3[1].conv2.weight, full.layer3[1].conv2.weight)


@pytest.mark.parametrize('cfg, conv2_dilated', [
    # mmdet / mmseg (deeplabv3 r18-d8) / mmaction2: a dilated basic block dilates conv1 only; both were dilated, so
    # their checkpoints loaded key for key and computed something else
    (dict(type='ResNet', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)), False),
    (dict(type='ResNet3d', depth=18, spatial_strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)), False),
    (dict(type='VolumeResNet', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)), True),  # MedicalNet's
])
def test_dilated_basic_blocks_follow_their_source_library(cfg, conv2_dilated):
    model = MODELS.build(dict(cfg, base_channels=8))
    for block in model.layer4:
        dilation = max(block.conv1.dilation)
        assert dilation > 1 and block.conv1.padding[-1] == dilation
        assert (block.conv2.dilation[-1], block.conv2.padding[-1]) == ((dilation, dilation) if conv2_dilated
                                                                         else (1, 1))
