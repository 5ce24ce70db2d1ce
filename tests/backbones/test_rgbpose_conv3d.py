"""RGBPoseConv3D: PoseC3D's RGB and pose-heatmap pathways of the one core, joined both ways by laterals."""
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.backbones.rgbpose_conv3d import POSE_PATHWAY, RGB_PATHWAY
from resbackbones.backbones.slowfast_pathway import LateralConnection
from resbackbones.layers import LayerFactory
from resbackbones.registry import MODELS
from resbackbones.weights.task_checkpoint import load_task_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

# mmaction2's pathway settings, narrowed (RGB base 8, pose base 4: the RGB / pose width ratio stays 4) and shallow
RGB = dict(RGB_PATHWAY, stage_blocks=(1, 1, 1, 1), base_channels=8, norm_eval=False)
POSE = dict(POSE_PATHWAY, stage_blocks=(1, 1, 1), base_channels=4, norm_eval=False)
HEAD = dict(type='RGBPoseHead', num_classes=5, loss_components=['rgb', 'pose'], loss_weights=[1., 1.],
            average_clips='prob')


def _backbone(rgb: dict | None = None, pose: dict | None = None, **kwargs):
    return MODELS.build(dict(type='RGBPoseConv3D', rgb_pathway={**RGB, **(rgb or {})},
                             pose_pathway={**POSE, **(pose or {})}, **kwargs))


def _inputs(n: int = 2, frames: int = 4, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return (torch.rand(n, 3, frames, size, size, generator=gen),
            torch.rand(n, 17, 4 * frames, size // 4, size // 4, generator=gen))


def _mmaction2_file(path, randomise, drop: str = '') -> tuple[torch.nn.Module, dict]:
    """mmaction2's RGBPoseConv3D (written out in tests/) with random weights saved in its key layout, without the
    keys containing ``drop`` when given; returns (its backbone, the head's tensors)."""
    reference = dict(stage_blocks=(1, 1, 1, 1), base_channels=8, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1),
                     lateral_infl=1, lateral_activate=(0, 0, 1, 1), fusion_kernel=7)
    pose = dict(stage_blocks=(1, 1, 1), base_channels=4, conv1_kernel=(1, 7, 7), inflate=(0, 1, 1), in_channels=17,
                stem_stride=1, first_stride=2, lateral_infl=16, lateral_activate=(0, 1, 1), fusion_kernel=7)
    theirs = randomise(ref.RGBPoseConv3D(reference, pose))
    head = {'cls_head.fc_rgb.weight': torch.randn(5, 256), 'cls_head.fc_rgb.bias': torch.randn(5),
            'cls_head.fc_pose.weight': torch.randn(5, 64), 'cls_head.fc_pose.bias': torch.randn(5)}
    state = {ref.to_mmaction2_keys(f'backbone.{k}'): v for k, v in theirs.state_dict().items()}
    assert 'backbone.pose_path.layer1_lateral.conv.weight' in state  # the inverse laterals' names are mmaction2's
    state = {k: v for k, v in state.items() if not (drop and drop in k)}
    torch.save({'state_dict': {**state, **head}, 'meta': {'mmaction2_version': '1.2.0'}}, path)
    return theirs, head


@torch.no_grad()
def test_mmaction2_rgbpose_checkpoint_gives_its_scores(tmp_path, randomise):
    theirs, head = _mmaction2_file(tmp_path / 'rgbpose.pth', randomise)
    ours = MODELS.build(dict(type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D', rgb_pathway=RGB,
                                                                   pose_pathway=POSE), cls_head=HEAD))
    assert 'mmaction2' in load_task_checkpoint(ours, tmp_path / 'rgbpose.pth')
    imgs, heatmaps = _inputs()
    rgb, pose = theirs(imgs, heatmaps)
    logits = ours.eval()(dict(imgs=imgs, heatmap_imgs=heatmaps), mode='tensor')
    expected = {'rgb': rgb.mean((2, 3, 4)) @ head['cls_head.fc_rgb.weight'].T + head['cls_head.fc_rgb.bias'],
                'pose': pose.mean((2, 3, 4)) @ head['cls_head.fc_pose.weight'].T + head['cls_head.fc_pose.bias']}
    for stream in ('rgb', 'pose'):
        torch.testing.assert_close(logits[stream], expected[stream], rtol=1e-5, atol=1e-5)


def test_mmaction2_init_file_without_laterals_fine_tunes_but_is_not_scored(tmp_path, randomise):
    """mmaction2's rgbpose_conv3d config starts from a merge of the RGB-only and pose-only files (load_from), which
    has no lateral connections: training loads the rest and keeps the laterals as initialised; a test refuses."""
    _mmaction2_file(tmp_path / 'init.pth', randomise, drop='lateral')
    ours = MODELS.build(dict(type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D', rgb_pathway=RGB,
                                                                   pose_pathway=POSE), cls_head=HEAD))
    lateral = ours.backbone.rgb_path.layer2_lateral.conv.weight.detach().clone()
    with pytest.raises(ValueError, match=r'12 backbone keys missing .* give it as load_from to tools/train.py'):
        load_task_checkpoint(ours, tmp_path / 'init.pth')
    assert 'mmaction2' in load_task_checkpoint(ours, tmp_path / 'init.pth', strict=False)
    assert torch.equal(ours.backbone.rgb_path.layer2_lateral.conv.weight, lateral)
    loaded = torch.load(tmp_path / 'init.pth', weights_only=True)['state_dict']
    assert torch.equal(ours.cls_head.fc_rgb.weight, loaded['cls_head.fc_rgb.weight'])


def test_mmaction2_default_has_its_parameter_count():
    """mmaction2's RGBPoseConv3D (its defaults, the rgbpose_conv3d config's) has 35,994,208 parameters."""
    with torch.device('meta'):
        backbone = MODELS.build(dict(type='RGBPoseConv3D'))
    assert sum(p.numel() for p in backbone.parameters()) == 35_994_208


@pytest.mark.parametrize('frames', [2, 4])
@torch.no_grad()
def test_feature_specs_give_the_output_shapes(frames):
    backbone = _backbone().eval()
    imgs, heatmaps = _inputs(frames=frames)
    outputs = backbone(imgs, heatmaps)
    for spec, out, x in zip(backbone.feature_specs, outputs, (imgs, heatmaps)):
        assert out.shape[1] == spec.channels
        assert out.shape[2:] == (x.shape[2] // spec.temporal_stride, x.shape[3] // spec.stride,
                                 x.shape[4] // spec.stride)


@torch.no_grad()
def test_each_pathway_sees_the_other():
    backbone = _backbone().eval()
    imgs, heatmaps = _inputs()
    rgb, pose = backbone(imgs, heatmaps)
    rgb_other_heatmaps, _ = backbone(imgs, torch.rand_like(heatmaps))
    _, pose_other_frames = backbone(torch.rand_like(imgs), heatmaps)
    assert not torch.allclose(rgb, rgb_other_heatmaps)
    assert not torch.allclose(pose, pose_other_frames)


@pytest.mark.parametrize('detach, reaches', [(False, True), (True, False)])
def test_rgb_detach_stops_the_rgb_loss_at_the_pose_pathway(detach, reaches):
    backbone = _backbone(rgb_detach=detach)
    rgb, _ = backbone(*_inputs())
    rgb.sum().backward()
    grad = backbone.pose_path.conv1.weight.grad
    assert (grad is not None and bool(grad.abs().sum() > 0)) == reaches


def test_a_dropped_path_zeroes_the_lateral_in_training_only():
    backbone = _backbone(rgb_drop_path=1.0)
    imgs, heatmaps = _inputs()
    with torch.no_grad():
        rgb, _ = backbone.train()(imgs, heatmaps)
        rgb_other, _ = backbone(imgs, torch.rand_like(heatmaps))
        assert torch.equal(rgb, rgb_other)  # the pose features never reach the RGB pathway
        rgb, _ = backbone.eval()(imgs, heatmaps)
        rgb_other, _ = backbone(imgs, torch.rand_like(heatmaps))
        assert not torch.allclose(rgb, rgb_other)


def test_describe_shows_both_pathways_and_the_laterals_each_way():
    text = _backbone().describe()
    assert 'rgb_path: frames' in text and 'pose_path: heatmaps, 4x the frames' in text
    assert 'laterals pose -> rgb: 2, ' in text and 'laterals rgb -> pose: 2, inverse (transposed conv)' in text


@pytest.mark.parametrize('frames', [1, 2, 3])
def test_an_inverse_lateral_gives_speed_ratio_times_the_frames(frames):
    lateral = LateralConnection(32, 2, 7, 4, LayerFactory(dims=3), with_norm=False, inverse=True)
    assert lateral(torch.rand(1, 32, frames, 5, 6)).shape == (1, 2, 4 * frames, 5, 6)
    assert hasattr(lateral, 'bn')  # mmaction2's DeConvModule always normalises


@pytest.mark.parametrize('kwargs, message', [
    (dict(rgb=dict(num_stages=3, stage_blocks=(1, 1, 1), lateral_activate=(0, 0, 1), inflate=(0, 0, 1),
                   out_indices=(2,), spatial_strides=(1, 2, 2), temporal_strides=(1, 1, 1), dilations=(1, 1, 1))),
     'one stage more than the pose pathway'),
    (dict(rgb=dict(lateral_activate=(0, 1, 1, 1))), r'rgb_pathway.lateral_activate=\(0, 1, 1, 1\) puts a lateral '
                                                    'before stage 2, where'),
    (dict(pose=dict(lateral_activate=(1, 1, 1))), r'pose_pathway.lateral_activate=\(1, 1, 1\) puts a lateral before '
                                                  'stage 1, where'),
    (dict(pose=dict(lateral_inv=False)), 'into the pose pathway inverse ones'),
    (dict(rgb=dict(type='resnet3d')), 'takes ResNet3dPathway arguments without a type'),
    (dict(pose_drop_path=1.5), r'pose_drop_path must be a probability in \[0, 1\]'),
    (dict(pose=dict(lateral_infl=5)), 'lateral_infl=5, which must divide them'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _backbone(**kwargs)


@pytest.mark.parametrize('heatmaps, message', [
    (torch.rand(1, 17, 16, 16, 16), r'give heatmaps a quarter of the frames\' size'),
    (torch.rand(1, 17, 8, 8, 8), 'give speed_ratio=4 heatmap frames per frame'),
    (torch.rand(1, 17, 8, 8), r'takes \(N, C, T, H, W\) heatmap_imgs'),
])
@torch.no_grad()
def test_inputs_that_do_not_line_up_are_refused(heatmaps, message):
    with pytest.raises(ValueError, match=message):
        _backbone().eval()(torch.rand(1, 3, 4, 32, 32), heatmaps)


def test_a_slowfast_refuses_inverse_laterals():
    with pytest.raises(ValueError, match='lateral_inv=True is not for SlowFast'):
        MODELS.build(dict(type='ResNet3dSlowFast', slow_pathway=dict(type='resnet3d', depth=50, lateral=True,
                                                                     lateral_inv=True)))


def test_each_pathway_starts_from_its_streams_recognizer_checkpoint(tmp_path, randomise):
    """mmaction2 merges its rgb_only and pose_only checkpoints into one (merge_pretrain.ipynb: fused input channels
    padded with zeros); here each pathway's ``pretrained`` takes its stream's checkpoint and does the same."""
    rgb_only = randomise(MODELS.build(dict(type='Recognizer3D', backbone=dict(
        type='ResNet3dSlowOnly', **{k: RGB[k] for k in ('stage_blocks', 'base_channels', 'conv1_kernel', 'inflate')}),
        cls_head=dict(type='I3DHead', num_classes=5, in_channels=256))))
    state = {ref.to_mmaction2_keys(k): v for k, v in rgb_only.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'rgb_only.pth')
    backbone = _backbone(rgb=dict(pretrained=str(tmp_path / 'rgb_only.pth')))
    backbone.init_weights()
    fused, plain = backbone.rgb_path.layer3[0].conv1.weight, rgb_only.backbone.layer3[0].conv1.weight
    assert fused.shape[1] == plain.shape[1] + 16  # the pose lateral's channels join layer3's input
    assert torch.equal(fused[:, :plain.shape[1]], plain) and not fused[:, plain.shape[1]:].any()
    assert torch.equal(backbone.rgb_path.conv1.weight, rgb_only.backbone.conv1.weight)
