"""ResNet3dSlowFast: mmaction2's two-pathway video ResNet on two cores joined by lateral convs."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.backbones.slowfast_pathway import ResNet3dPathway
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

BLOCKS = (1, 2, 1, 1)
SLOW = dict(type='resnet3d', depth=50, pretrained=None, lateral=True, conv1_kernel=(1, 7, 7), conv1_stride_t=1,
            pool1_stride_t=1, inflate=(0, 0, 1, 1), norm_eval=False, base_channels=16, stage_blocks=BLOCKS)
FAST = dict(type='resnet3d', depth=50, pretrained=None, lateral=False, base_channels=2, conv1_kernel=(5, 7, 7),
            conv1_stride_t=1, pool1_stride_t=1, norm_eval=False, stage_blocks=BLOCKS)


def _slowfast(slow: dict | None = None, fast: dict | None = None, **kwargs) -> nn.Module:
    return MODELS.build(dict(type='ResNet3dSlowFast', slow_pathway={**SLOW, **(slow or {})},
                             fast_pathway={**FAST, **(fast or {})}, **kwargs))


@pytest.mark.parametrize('rates, lateral', [
    (dict(), dict()),  # mmaction2's 4x16 R50: tau 8, alpha 8, fusion kernel 5, laterals without norm
    (dict(resample_rate=4, speed_ratio=4), dict(fusion_kernel=7, lateral_norm=True)),  # its 8x8 steplr config
])
@torch.no_grad()
def test_mmaction2_slowfast_recognizer_checkpoint_gives_its_scores(tmp_path, randomise, rates, lateral):
    theirs = randomise(ref.SlowFast(rates.get('resample_rate', 8), rates.get('speed_ratio', 8), 8,
                                    dict(stage_blocks=BLOCKS, base_channels=16, conv1_kernel=(1, 7, 7),
                                         inflate=(0, 0, 1, 1), **lateral),
                                    dict(stage_blocks=BLOCKS, base_channels=2, conv1_kernel=(5, 7, 7),
                                         inflate=(1, 1, 1, 1))))
    head = randomise(ref.SlowFastHead(512 + 64, 5))
    state = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    state.update({f'cls_head.{k}': v for k, v in head.state_dict().items()})
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'slowfast.pth')
    backbone = dict(type='ResNet3dSlowFast', slow_pathway=dict(SLOW, **lateral), fast_pathway=FAST, **rates)
    ours = MODELS.build(dict(type='Recognizer3D', backbone=backbone,
                             cls_head=dict(type='SlowFastHead', num_classes=5, in_channels=512 + 64)))
    report = load_pretrained(ours, str(tmp_path / 'slowfast.pth'), strict=True)
    assert not report.missing and not report.unexpected
    clip = torch.rand(2, 3, 16, 40, 48)
    slow, fast = ours.eval().backbone(clip)
    expected_slow, expected_fast = theirs(clip)
    assert slow.shape == expected_slow.shape == (2, 512, 16 // rates.get('resample_rate', 8), 2, 2)
    assert fast.shape == expected_fast.shape == (2, 64, 16, 2, 2)  # tau / alpha = 1: every frame
    torch.testing.assert_close(slow, expected_slow, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fast, expected_fast, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.tensor(clip), head((expected_slow, expected_fast)), rtol=1e-4, atol=1e-4)


def test_r50_4x16_has_mmaction2s_parameter_count():
    # counted on mmaction2 1.2.0's own ResNet3dSlowFast() and SlowFastHead(400, 2304): 34,479,288 in all
    backbone = MODELS.build(dict(type='ResNet3dSlowFast'))
    assert sum(p.numel() for p in backbone.parameters()) == 34_479_288 - (2304 * 400 + 400)
    assert [spec.channels for spec in backbone.feature_specs] == [2048, 256]


@pytest.mark.parametrize('frames', [16, 24])
@torch.no_grad()
def test_feature_specs_give_the_output_shapes(frames):
    model = _slowfast(resample_rate=8, speed_ratio=4).eval()  # the fast pathway sees every other frame
    outputs = model(torch.rand(1, 3, frames, 45, 61))
    for out, spec in zip(outputs, model.feature_specs):
        assert out.shape[1:] == (spec.channels, spec.temporal_output_size(frames), spec.output_size(45),
                                 spec.output_size(61))
    assert [out.shape[2] for out in outputs] == [frames // 8, frames // 2]


def test_laterals_have_mmaction2s_names_and_widths():
    model = _slowfast()
    laterals = {name: m.conv for name, m in model.slow_path.named_children() if name.endswith('_lateral')}
    assert {n: (c.in_channels, c.out_channels) for n, c in laterals.items()} == {
        'conv1_lateral': (2, 4), 'layer1_lateral': (8, 16), 'layer2_lateral': (16, 32), 'layer3_lateral': (32, 64)}
    assert all(c.kernel_size == (5, 1, 1) and c.stride == (8, 1, 1) and c.bias is None for c in laterals.values())
    assert model.slow_path.layer1[0].conv1.in_channels == 16 + 4  # the stem's 16 plus the lateral's 4
    assert model.slow_path.layer4[0].downsample[0].in_channels == 256 + 64


def test_lateral_activate_leaves_out_fusion_points():
    model = _slowfast(slow=dict(lateral_activate=(0, 1, 0, 1)))
    assert [n for n, _ in model.slow_path.named_children() if n.endswith('_lateral')] == \
        ['layer1_lateral', 'layer3_lateral']
    assert model.slow_path.layer1[0].conv1.in_channels == 16
    assert model.eval()(torch.rand(1, 3, 8, 32, 32))[0].shape[1] == 512


def test_frozen_stages_freeze_the_laterals_out_of_frozen_stages():
    model = _slowfast(slow=dict(frozen_stages=1)).train()
    trainable = {n.split('.')[0] for n, p in model.slow_path.named_parameters() if p.requires_grad}
    assert 'layer1_lateral' not in trainable and 'layer1' not in trainable and 'bn1' not in trainable
    assert {'conv1_lateral', 'layer2_lateral', 'layer2'} <= trainable  # mmaction2 never freezes conv1_lateral


def test_describe_shows_both_pathways_and_the_laterals():
    model = _slowfast(slow=dict(frozen_stages=1)).train()
    text = model.describe()
    laterals = {n: m for n, m in model.slow_path.named_children() if n.endswith('_lateral')}
    frozen = sum(p.numel() for p in laterals['layer1_lateral'].parameters())
    total = sum(p.numel() for m in laterals.values() for p in m.parameters())
    assert 'slow_path: one frame in 8' in text and 'fast_path: every frame' in text
    assert f'laterals fast -> slow: 4, {total - frozen:,} of {total:,} params trainable' in text
    assert text.count('ResNet3dPathway-50') == 2


def test_a_clip_whose_length_the_laterals_cannot_align_is_refused():
    with pytest.raises(ValueError, match='multiple of resample_rate=8'):
        _slowfast()(torch.rand(1, 3, 12, 32, 32))
    with pytest.raises(ValueError, match='has none for the slow pathway'):
        _slowfast()(torch.rand(1, 3, 4, 32, 32))


def test_a_lateral_pathway_does_not_run_alone():
    with pytest.raises(RuntimeError, match='run it through its two-pathway backbone'):
        _slowfast().slow_path(torch.rand(1, 3, 8, 32, 32))


@pytest.mark.parametrize('kwargs, message', [
    (dict(resample_rate=8, speed_ratio=3), 'must be a multiple of speed_ratio'),
    (dict(resample_rate=0), 'resample_rate must be an integer >= 1'),
    (dict(slow=dict(type='bninception')), "slow_pathway must be a dict with type='resnet3d'"),
    (dict(slow=dict(lateral_inv=True)), 'lateral_inv=True is not for SlowFast'),
    (dict(slow=dict(with_pool2=True)), 'with_pool2 must be False'),
    (dict(fast=dict(out_indices=(2,))), r'out_indices must be \(3,\)'),
    (dict(slow=dict(fusion_kernel=4)), 'fusion_kernel must be odd'),
    (dict(fast=dict(lateral=True)), 'fast_pathway must have lateral=False'),
    (dict(fast=dict(base_channels=4)), r'fast pathway\'s channels \[4, 16, 32, 64\]'),
    (dict(fast=dict(num_stages=3, stage_blocks=(1, 2, 1), inflate=(1, 1, 1), spatial_strides=(1, 2, 2),
                    temporal_strides=(1, 1, 1), dilations=(1, 1, 1))),
     'the pathways need the same num_stages'),
    # every clip length failed in forward, told to be 'a multiple of resample_rate=8'
    (dict(fast=dict(conv1_stride_t=2)),
     r'temporal strides before stage\(s\) \[1, 2, 3, 4\] differ \(slow \[1, 1, 1, 1\], fast \[2, 2, 2, 2\]\)'),
    (dict(slow=dict(temporal_strides=(1, 2, 1, 1))), r'before stage\(s\) \[3, 4\] differ'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _slowfast(**kwargs)


@pytest.mark.parametrize('backbone, head', [
    (dict(type='ResNet3dSlowFast', slow_pathway=SLOW, fast_pathway=FAST), 'I3DHead'),
    (dict(type='ResNet3d', depth=18, base_channels=8), 'SlowFastHead'),
])
def test_a_head_that_does_not_fit_the_pathways_is_refused(backbone, head):
    with pytest.raises(ValueError, match=f'cls_head type {head!r} does not fit'):
        MODELS.build(dict(type='Recognizer3D', backbone=backbone, cls_head=dict(type=head, num_classes=3)))


def test_a_recognizer_trains_both_pathways_and_the_laterals():
    model = MODELS.build(dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowFast', slow_pathway=SLOW,
                                                                 fast_pathway=FAST, resample_rate=4, speed_ratio=4),
                              num_classes=3))
    assert model.head.fc.in_features == 512 + 64
    loss = model.tensor(torch.rand(2, 3, 8, 32, 32)).logsumexp(dim=1).sum()
    loss.backward()
    for name in ('slow_path.conv1', 'fast_path.conv1', 'slow_path.conv1_lateral.conv', 'slow_path.layer3_lateral.conv'):
        assert model.backbone.get_submodule(name).weight.grad.abs().sum() > 0, name


@pytest.mark.parametrize('form', ['pretrained', 'init_cfg list'])
def test_pretrained_loads_a_slowfast_checkpoint_into_both_pathways(tmp_path, randomise, form):
    trained = randomise(_slowfast())
    torch.save(trained.state_dict(), tmp_path / 'slowfast.pth')
    if form == 'pretrained':
        model = _slowfast(pretrained=str(tmp_path / 'slowfast.pth'))
    else:  # mmengine's list form, strict honoured (a list crashed on init_cfg.get)
        model = _slowfast(init_cfg=[dict(type='Constant', layer='Conv3d', val=0.5),
                                    dict(type='Pretrained', checkpoint=str(tmp_path / 'slowfast.pth'), strict=True)])
    model.init_weights()
    for name in ('slow_path.layer3_lateral.conv.weight', 'fast_path.layer2.1.conv2.weight', 'slow_path.bn1.running_var'):
        torch.testing.assert_close(model.state_dict()[name], trained.state_dict()[name])


@torch.no_grad()
def test_a_2d_resnet_starts_the_slow_pathway_as_the_plain_network(tmp_path, randomise):
    resnet = randomise(MODELS.build(dict(type='ResNet', depth=50, base_channels=16, stage_blocks=BLOCKS)))
    torch.save(resnet.state_dict(), tmp_path / 'r50_2d.pth')
    model = _slowfast(slow=dict(pretrained=str(tmp_path / 'r50_2d.pth')))
    model.init_weights()
    conv = model.slow_path.layer2[0].conv1.weight  # 64 inputs from layer1, 16 from the lateral
    assert conv.shape[1] == 64 + 16 and conv[:, 64:].abs().sum() == 0 and conv[:, :64].abs().sum() > 0
    plain = ResNet3dPathway(**{k: v for k, v in SLOW.items() if k not in ('type', 'lateral', 'pretrained')},
                            pretrained=str(tmp_path / 'r50_2d.pth'))
    plain.init_weights()
    clip = torch.rand(2, 3, 16, 32, 32)
    slow, _ = model.eval()(clip)
    [expected] = plain.eval()(clip[:, :, ::8])  # the slow pathway's frames; its laterals add nothing yet
    torch.testing.assert_close(slow, expected)
