"""Format detection from key patterns, named sources, and the structural key renames."""
from __future__ import annotations

import re

import pytest
import torch

from resbackbones.weights import SOURCES, detect_source, load_pretrained, read_checkpoint
from resbackbones.weights.align import align_keys

T = torch.zeros(1)
FLAT = {'conv1.weight': T, 'bn1.weight': T, 'layer1.0.conv1.weight': T}
TIMM_DEEP = {'conv1.0.weight': T, 'conv1.1.weight': T, 'bn1.weight': T, 'layer1.0.conv1.weight': T, 'fc.weight': T}


def _backbone(state):
    return {f'backbone.{k}': v for k, v in state.items()}


@pytest.mark.parametrize('checkpoint, expected', [
    ({**FLAT, 'fc.weight': T, 'fc.bias': T}, 'torchvision'),
    (TIMM_DEEP, 'timm'),
    ({'state_dict': {**_backbone(FLAT), 'head.fc.weight': T}, 'meta': {'mmcls_version': '0.25'}}, 'mmpretrain'),
    ({'state_dict': _backbone(FLAT), 'meta': {'epoch': 100}}, 'mmpretrain'),
    ({'state_dict': {**_backbone(FLAT), 'neck.fpn_convs.0.conv.weight': T}, 'meta': {}}, 'mmdet'),
    ({'state_dict': _backbone(FLAT), 'meta': {'mmdet_version': '3.3.0'}}, 'mmdet'),
    ({'state_dict': {**_backbone(FLAT), 'backbone.layer1.0.gn1.weight': T}, 'meta': {'epoch': 1}}, 'mmdet'),
    ({**{f'backbone.body.{k}': v for k, v in FLAT.items()}, 'backbone.fpn.inner_blocks.0.0.weight': T,
      'rpn.head.cls_logits.weight': T}, 'torchvision_detection'),
    ({'state_dict': {**_backbone(FLAT), 'cls_head.fc_cls.weight': T}, 'meta': {}}, 'mmaction2'),
    ({'stem.0.weight': torch.zeros(1, 1, 1, 1, 1), 'layer1.0.conv1.0.weight': T,
      'layer1.0.conv1.1.running_var': T, 'fc.weight': T}, 'torchvision_video'),
    ({'stem.0.weight': torch.zeros(1, 1, 1, 1), 'layer1.0.conv1.weight': T}, 'native'),  # our 2D deep stem
    (FLAT, 'native'),
    ({**_backbone(FLAT), 'head.fc.weight': T}, 'native'),
])
def test_detection_from_key_patterns(checkpoint, expected):
    source, evidence = detect_source(read_checkpoint(checkpoint))
    assert source == expected
    assert evidence  # the report says why


@pytest.mark.parametrize('source', ['mmpretrain', 'mmdet'])
def test_named_source_whose_layout_is_absent(source, tiny_backbone):
    flat = tiny_backbone().state_dict()
    with pytest.raises(ValueError, match=f"source='{source}' expects keys starting with 'backbone.'"):
        load_pretrained(tiny_backbone(), flat, source=source)


def test_unknown_source_lists_the_choices(tiny_backbone):
    with pytest.raises(ValueError, match='source must be one of') as err:
        load_pretrained(tiny_backbone(), tiny_backbone().state_dict(), source='caffe2')
    assert all(name in str(err.value) for name in SOURCES)


def test_alias_mmcls_is_mmpretrain(tiny_backbone):
    state = {'state_dict': _backbone(tiny_backbone().state_dict()), 'meta': {}}
    assert load_pretrained(tiny_backbone(seed=2), state, source='mmcls').source == 'mmpretrain'


@pytest.mark.parametrize('ckpt_keys, target_keys, expected', [
    # timm deep stem onto ours
    (['conv1.0.weight', 'conv1.1.weight', 'conv1.6.weight', 'bn1.running_var'],
     ['stem.0.weight', 'stem.1.weight', 'stem.6.weight', 'stem.7.running_var'],
     ['stem.0.weight', 'stem.1.weight', 'stem.6.weight', 'stem.7.running_var']),
    # a classic stem stays as it is
    (['conv1.weight', 'bn1.weight'], ['conv1.weight', 'bn1.weight'], ['conv1.weight', 'bn1.weight']),
    # pool-first shortcut in a stride-1 stage -> conv/norm at .0/.1; the stride-2 stage already agrees
    (['layer1.0.downsample.1.weight', 'layer1.0.downsample.2.weight', 'layer2.0.downsample.1.weight',
      'layer2.0.downsample.2.weight'],
     ['layer1.0.downsample.0.weight', 'layer1.0.downsample.1.weight', 'layer2.0.downsample.1.weight',
      'layer2.0.downsample.2.weight'],
     ['layer1.0.downsample.0.weight', 'layer1.0.downsample.1.weight', 'layer2.0.downsample.1.weight',
      'layer2.0.downsample.2.weight']),
    # mmdet group-norm names
    (['gn1.weight', 'layer1.0.gn2.bias'], ['bn1.weight', 'layer1.0.bn2.bias'], ['bn1.weight', 'layer1.0.bn2.bias']),
    # mmaction2 TSM wrappers (TemporalShift/TemporalPool '.net', NL3DWrapper '.block') around ConvModules
    (['layer1.0.conv1.conv.net.weight', 'layer2.net.0.conv1.bn.weight', 'layer3.1.block.conv2.conv.weight',
      'layer3.1.non_local_block.g.0.conv.weight'],
     ['layer1.0.conv1.weight', 'layer2.0.bn1.weight', 'layer3.1.conv2.weight',
      'layer3.1.non_local_block.g.0.conv.weight'],
     ['layer1.0.conv1.weight', 'layer2.0.bn1.weight', 'layer3.1.conv2.weight',
      'layer3.1.non_local_block.g.0.conv.weight']),
    # a '.net' segment the target has stays
    (['head.net.weight'], ['head.net.weight'], ['head.net.weight']),
])
def test_structural_renames_follow_the_target(ckpt_keys, target_keys, expected):
    renamed, old_of, notes = align_keys({k: T for k in ckpt_keys}, target_keys)
    assert list(renamed) == expected
    assert [old_of[k] for k in renamed] == ckpt_keys
    assert bool(notes) == (ckpt_keys != expected)


def test_torchvision_detection_file_gives_its_backbone(tmp_path):
    import torchvision

    from resbackbones import create_model
    detector = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    path = tmp_path / 'fasterrcnn_resnet50_fpn.pth'
    torch.save(detector.state_dict(), path)
    backbone = create_model('resnet50', out_indices=(0, 1, 2, 3))
    report = load_pretrained(backbone, str(path), strict=True)
    assert report.source == 'torchvision_detection'
    body = detector.backbone.body.state_dict()
    assert all(torch.equal(v, body[k]) for k, v in backbone.state_dict().items() if k in body)
    assert {why for _, why in report.ignored} >= {'not part of the backbone (backbone.fpn)',
                                                 'not part of the backbone (rpn)'}


def _mmaction2_names(key: str) -> str:
    """Our ResNet3d key as mmaction2's ResNet3d writes it: mmcv ConvModules (conv + bn) everywhere."""
    key = re.sub(r'^conv1\.', 'conv1.conv.', key)
    key = re.sub(r'^bn1\.', 'conv1.bn.', key)
    key = re.sub(r'\.conv(\d)\.', r'.conv\1.conv.', key)
    key = re.sub(r'\.bn(\d)\.', r'.conv\1.bn.', key)
    return re.sub(r'\.downsample\.([01])\.', lambda m: '.downsample.conv.' if m[1] == '0' else '.downsample.bn.', key)


@torch.no_grad()
def test_mmaction2_resnet3d_checkpoint_loads_with_its_conv_module_names():
    from resbackbones.registry import MODELS
    cfg = dict(type='ResNet3d', depth=50, base_channels=8, conv1_kernel=(5, 7, 7), inflate=(1, (1, 0, 1, 0), 0, 1),
               zero_init_residual=False)  # every conv then shapes the output
    source, target = MODELS.build(cfg).eval(), MODELS.build(cfg).eval()
    state = {f'backbone.{_mmaction2_names(k)}': v for k, v in source.state_dict().items()}
    assert 'backbone.layer1.0.downsample.bn.running_var' in state and 'backbone.conv1.bn.weight' in state
    state['cls_head.fc_cls.weight'] = torch.zeros(400, 256)
    report = load_pretrained(target, {'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, strict=True)
    assert report.source == 'mmaction2' and any('ConvModule' in note for note in report.notes)
    assert [k for k, _ in report.ignored] == ['cls_head.fc_cls.weight']
    clip = torch.randn(1, 3, 6, 32, 32)
    torch.testing.assert_close(target(clip)[0], source(clip)[0])
