"""Mapping onto the target: mmpretrain/mmdet files, init_cfg, heads, wrong architectures, strict, all-or-nothing."""
from __future__ import annotations

import re

import pytest
import torch

from resbackbones import create_model
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

MMDET_EXTRA = {'neck.lateral_convs.0.conv.weight': torch.zeros(4, 8, 1, 1), 'rpn_head.rpn_cls.bias': torch.zeros(3),
               'roi_head.bbox_head.fc_cls.weight': torch.zeros(2, 4)}


def _same(a, b) -> bool:
    a, b = (a, ) if torch.is_tensor(a) else a, (b, ) if torch.is_tensor(b) else b
    return len(a) == len(b) and all(torch.allclose(x, y, atol=1e-6) for x, y in zip(a, b))


def _forward(model, x):
    with torch.no_grad():
        return model.eval()(x)


def _mmdet_layout(state: dict, avg_down: bool, group_norm: bool) -> dict:
    """Our backbone keys as mmdet writes them: avg-down shortcuts pool-first in every stage (.1 conv, .2 norm, where
    our stride-1 layer1 has .0/.1) and, for group norm, norms named 'gnN'."""
    out = {}
    for key, value in state.items():
        if avg_down:
            key = re.sub(r'^(layer1\.0\.downsample\.)(\d)', lambda m: f'{m[1]}{int(m[2]) + 1}', key)
        key = re.sub(r'(^|\.)bn(\d)\.', r'\1gn\2.', key) if group_norm else key
        out[f'backbone.{key}'] = value
    return out


@pytest.mark.parametrize('prefix', [None, 'backbone.', 'backbone'])
def test_mmpretrain_file_through_init_cfg(prefix, tiny_classifier, save, image):
    source = tiny_classifier()
    path = save({'state_dict': source.state_dict(), 'meta': {'mmpretrain_version': '1.2.0'}})
    init_cfg = dict(type='Pretrained', checkpoint=str(path), **({'prefix': prefix} if prefix else {}))
    backbone = MODELS.build(dict(type='ResNet', depth=18, base_channels=8, init_cfg=init_cfg))
    last = _forward(source.backbone, image)[-1]  # the classifier's backbone returns the last stage only
    assert not _same(_forward(backbone, image)[-1], last)
    backbone.init_weights()
    assert _same(_forward(backbone, image)[-1], last)


def test_mmpretrain_file_into_classifier_loads_the_head(tiny_classifier, save, image):
    source = tiny_classifier(num_classes=5)
    path = save({'state_dict': source.state_dict(), 'meta': {'mmcls_version': '0.25.0'}})
    target = create_model('resnet18', pretrained=str(path), num_classes=5, base_channels=8)
    assert _same(_forward(target, image), _forward(source, image))


@pytest.mark.parametrize('name, norm_cfg', [('resnet18', None), ('resnet50d', None),
                                            ('resnet18', dict(type='GN', num_groups=2))])
def test_mmdet_file_ignores_detector_parts(name, norm_cfg, tiny_backbone, save, image):
    extra = {'norm_cfg': norm_cfg} if norm_cfg else {}
    source = tiny_backbone(name, **extra)
    backbone_keys = _mmdet_layout(source.state_dict(), avg_down=name == 'resnet50d', group_norm=bool(norm_cfg))
    path = save({'state_dict': {**backbone_keys, **MMDET_EXTRA}, 'meta': {'mmdet_version': '3.3.0'}})
    target = tiny_backbone(name, seed=2, **extra)
    report = load_pretrained(target, str(path))
    assert report.source == 'mmdet'
    assert _same(_forward(target, image), _forward(source, image))
    assert {k for k, _ in report.ignored if not k.endswith('num_batches_tracked')} == set(MMDET_EXTRA)
    assert not report.missing and not report.unexpected
    assert bool(report.notes) == (name == 'resnet50d' or bool(norm_cfg))  # the renames were needed and reported


def test_head_of_another_num_classes_is_skipped_and_reported(tiny_classifier, save, image):
    source = tiny_classifier(num_classes=5)
    target = tiny_classifier(num_classes=7, seed=2)
    head_before = target.head.fc.weight.clone()
    report = load_pretrained(target, save(source.state_dict()))
    assert _same(_forward(target.backbone, image), _forward(source.backbone, image))
    assert torch.equal(target.head.fc.weight, head_before)
    assert ('head.fc.weight', (5, 64), (7, 64)) in report.mismatched
    assert 'shape mismatch (2, skipped)' in str(report)


@pytest.mark.parametrize('head_key', ['fc.weight', 'head.fc.weight'])
def test_classifier_keys_are_ignored_for_a_backbone(head_key, tiny_backbone):
    state = {**tiny_backbone().state_dict(), head_key: torch.zeros(5, 64)}
    report = load_pretrained(tiny_backbone(seed=2), state)
    assert (head_key, 'classifier head; the target is a backbone') in report.ignored
    assert 'ignored (1, classifier head; the target is a backbone)' in str(report)


def test_torchvision_layout_into_classifier_maps_fc_to_head(tiny_classifier, image):
    source = tiny_classifier()
    flat = {k.replace('backbone.', '').replace('head.fc.', 'fc.'): v for k, v in source.state_dict().items()}
    target = tiny_classifier(seed=2)
    report = load_pretrained(target, flat)
    assert report.source == 'torchvision'
    assert _same(_forward(target, image), _forward(source, image))


@pytest.mark.parametrize('ckpt_args, model_args', [
    (dict(name='resnet18'), dict(name='resnet50')),
    (dict(name='resnet50'), dict(name='resnet50', base_channels=16)),
    (dict(name='resnet50'), dict(name='resnext50_32x4d')),
])
def test_another_architecture_raises_and_leaves_the_model(ckpt_args, model_args, tiny_backbone):
    state = tiny_backbone(**ckpt_args).state_dict()
    target = tiny_backbone(seed=2, **model_args)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(ValueError, match=r'another architecture.*checkpoint \(\d+, .*\) vs model \(\d+, '):
        load_pretrained(target, state)
    assert all(torch.equal(v, before[k]) for k, v in target.state_dict().items())


@pytest.mark.parametrize('change, match', [
    (lambda sd: {k: v for k, v in sd.items() if not k.startswith('layer4.')}, r'\d+ backbone keys missing'),
    (lambda sd: {**sd, 'layer5.0.conv1.weight': torch.zeros(1)}, r"1 unexpected \['layer5.0.conv1.weight'\]"),
])
def test_strict_raises_on_missing_or_unexpected_and_changes_nothing(change, match, tiny_backbone, image):
    state = change(tiny_backbone().state_dict())
    target = tiny_backbone(seed=2)
    before = _forward(target, image)
    with pytest.raises(ValueError, match=match + '.*The model was not changed'):
        load_pretrained(target, state, strict=True)
    assert _same(_forward(target, image), before)
    report = load_pretrained(target, state)  # not strict: loads the rest and says what was off
    assert report.missing or report.unexpected
    assert not _same(_forward(target, image), before)


def test_nothing_matching_raises(tiny_backbone):
    with pytest.raises(ValueError, match='nothing in <state dict>'):
        load_pretrained(tiny_backbone(), {'encoder.weight': torch.zeros(3)})


def test_prefix_that_no_key_has(tiny_backbone):
    with pytest.raises(ValueError, match="prefix 'backbone.': no key"):
        load_pretrained(tiny_backbone(), tiny_backbone().state_dict(), prefix='backbone.')


def test_frozen_bn_target_ignores_step_counters(tiny_backbone, image):
    source = tiny_backbone()
    target = tiny_backbone(seed=2, norm_cfg=dict(type='FrozenBN'))
    report = load_pretrained(target, source.state_dict())
    assert _same(_forward(target, image), _forward(source, image))
    assert report.ignored and all(k.endswith('num_batches_tracked') for k, _ in report.ignored)


def test_half_precision_checkpoint_is_cast(tiny_backbone, image):
    source = tiny_backbone()
    half = {k: v.half() if v.is_floating_point() else v for k, v in source.state_dict().items()}
    target = tiny_backbone(seed=2)
    load_pretrained(target, half)
    assert target.conv1.weight.dtype == torch.float32
    assert torch.equal(target.conv1.weight, source.conv1.weight.half().float())


def test_report_text_names_source_and_counts(tiny_backbone, save):
    path = save(tiny_backbone().state_dict(), 'weights.pth')
    report = load_pretrained(tiny_backbone(seed=2), str(path))
    text = str(report)
    assert text.startswith(f'Loaded {report.loaded} tensors from {path}')
    assert 'source: native (detected: flat keys without a classifier)' in text
    assert report.loaded == len(tiny_backbone().state_dict())


@pytest.mark.parametrize('change, expected', [
    (lambda sd: {k: v for k, v in sd.items() if not k.startswith('layer4.')},
     r"partial load from <state dict> \(source native\): (\d+) model keys missing, kept as initialised "
     r"\['layer4\.0\.[\w.]+', .*; 0 checkpoint keys unexpected"),
    (lambda sd: {**sd, 'layer5.0.conv1.weight': torch.zeros(1)},
     r"0 model keys missing, kept as initialised \[\]; 1 checkpoint keys unexpected, not loaded "
     r"\['layer5\.0\.conv1\.weight'\]\. Pass strict=True"),
])
def test_partial_load_is_a_warning_naming_counts_and_keys(change, expected, tiny_backbone, log_records):
    import logging
    report = load_pretrained(tiny_backbone(seed=2), change(tiny_backbone().state_dict()))
    warnings = [r.getMessage() for r in log_records if r.levelno == logging.WARNING]
    found = re.search(expected, warnings[0]) if len(warnings) == 1 else None
    assert found and (not found.groups() or int(found[1]) == len(report.missing))
    assert any(r.levelno == logging.INFO and r.getMessage().startswith('Loaded') for r in log_records)


def test_clean_load_logs_no_warning(tiny_backbone, log_records):
    import logging
    load_pretrained(tiny_backbone(seed=2), tiny_backbone().state_dict())
    assert log_records and all(r.levelno < logging.WARNING for r in log_records)
