"""ResNet-C vs ResNet-D shortcuts told apart from the checkpoint's own structure, and mmpretrain's deep stem."""
from __future__ import annotations

import re

import pytest
import timm
import torch
import torchvision

from resbackbones import create_model
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained
from resbackbones.weights.task_checkpoint import load_task_checkpoint

X = torch.randn(1, 3, 32, 32)
FORMS = r'(an avg-pool at child 0|a strided 1x1 conv at child 0)'
SWAP = (rf'shortcut layer\d\.0\.downsample: the checkpoint has {FORMS} .*'
        rf'\(key layer\d\.0\.downsample\.\d\.\w+\), the model {FORMS}')


def _refused(err) -> bool:
    """The error names two different forms."""
    found = re.search(SWAP, str(err.value))
    return found is not None and found[1] != found[2]


def _features(model, x=X) -> list[torch.Tensor]:
    """layer1..layer4 outputs of a timm/torchvision model, or our backbone's four outputs."""
    if hasattr(model, 'fc'):
        outs = []
        hooks = [getattr(model, f'layer{i}').register_forward_hook(lambda m, i, o: outs.append(o))
                 for i in range(1, 5)]
        with torch.no_grad():
            model.eval()(x)
        for hook in hooks:
            hook.remove()
        return outs
    with torch.no_grad():
        return list(model.eval()(x))


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model, before) -> bool:
    return all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


REFERENCES = {'timm resnet50c': lambda: timm.create_model('resnet50c'),
              'timm resnet50d': lambda: timm.create_model('resnet50d'),
              'torchvision resnet50': lambda: torchvision.models.resnet50()}


@pytest.fixture
def references(randomise):
    """Name -> the randomised reference model, built on first use."""
    class Lazy(dict):
        def __missing__(self, name):
            self[name] = randomise(REFERENCES[name](), 3)
            return self[name]
    return Lazy()


@pytest.mark.parametrize('reference, target, kwargs', [
    ('timm resnet50c', 'resnet50d', {}),
    ('timm resnet50d', 'resnet50c', {}),
    ('torchvision resnet50', 'resnet50', dict(avg_down=True)),
    ('timm resnet50d', 'resnet50', {}),
])
@pytest.mark.parametrize('strict', [True, False])
def test_other_shortcut_form_is_refused_and_model_unchanged(reference, target, kwargs, strict, references):
    model = create_model(target, out_indices=(0, 1, 2, 3), **kwargs)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=SWAP + r'.*The model was not changed') as err:
        load_pretrained(model, references[reference].state_dict(), strict=strict)
    assert _refused(err)
    assert _unchanged(model, before)


@pytest.mark.parametrize('reference, target, kwargs', [
    ('timm resnet50c', 'resnet50c', {}),
    ('timm resnet50d', 'resnet50d', {}),
    ('torchvision resnet50', 'resnet50', {}),
    ('timm resnet50d', 'resnet50', dict(avg_down=True, deep_stem=True)),  # the same model, spelled by arguments
])
def test_own_shortcut_form_gives_equal_features(reference, target, kwargs, references):
    model = create_model(target, out_indices=(0, 1, 2, 3), **kwargs)
    load_pretrained(model, references[reference].state_dict(), strict=True)
    for ours, theirs in zip(_features(model), _features(references[reference]), strict=True):
        assert (ours - theirs).abs().max().item() == 0.0


def test_stride1_stage_accepts_either_form(references):
    """Where the model's shortcut does not downsample (layer1; a dilated stage), pool-first and conv-first
    shortcuts compute the same thing: timm's ResNet-D layer1 (identity pool at .0) loads into our ResNet-D's."""
    model = create_model('resnet50d', out_indices=(0,))
    report = load_pretrained(model, references['timm resnet50d'].state_dict())
    assert (_features(model)[0] - _features(references['timm resnet50d'])[0]).abs().max().item() == 0.0
    assert any(why.startswith('stage not built') for _, why in report.ignored)


def test_a_c4_backbone_ignores_the_fourth_stage_as_out_indices_would(references):
    # num_stages=3 (mmdet's C4) reported layer4's 50 keys as unexpected, and strict=True refused the file
    model = create_model('resnet50', num_stages=3, strides=(1, 2, 2), out_indices=(2,))
    report = load_pretrained(model, references['torchvision resnet50'].state_dict(), strict=True)
    layer4 = [key for key, why in report.ignored if key.startswith('layer4.') and why.startswith('stage not built')]
    assert len(layer4) == len([k for k in references['torchvision resnet50'].state_dict() if k.startswith('layer4.')])
    assert not report.unexpected


def test_whole_model_path_refuses_the_other_variant(references, tmp_path):
    path = tmp_path / 'timm_resnet50c.pth'
    torch.save(references['timm resnet50c'].state_dict(), path)
    classifier = create_model('resnet50d', num_classes=1000)
    before = _snapshot(classifier)
    with pytest.raises(ValueError, match=SWAP) as err:
        load_task_checkpoint(classifier, path)
    assert _refused(err) and str(err.value).startswith(f'{path}: ')  # which of a config's files is at fault
    assert _unchanged(classifier, before)


def test_a_dilated_resnet_d_file_loads_into_an_undilated_resnet_d():
    # its dilated stages' shortcuts are stride-1 convs at child 0 (no pool), which read as ResNet-C's strided ones:
    # refused, with advice (avg_down=False) that then failed at layer2
    def build(**dilated):
        return MODELS.build(dict(type='ResNetV1d', depth=18, base_channels=8, out_indices=(3,), **dilated))
    source = build(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
    theirs = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in source.state_dict().items()}
    model = build()
    load_pretrained(model, theirs, strict=True)
    ours = model.state_dict()
    for stage in ('layer2', 'layer3', 'layer4'):  # pooled in the file (layer2) or not (3, 4): the conv lands at .1
        assert torch.equal(ours[f'{stage}.0.downsample.1.weight'], theirs[f'{stage}.0.downsample.'
                                                                           f'{1 if stage == "layer2" else 0}.weight'])


MMPRETRAIN_STEM = {'0': '0.conv', '1': '0.{norm}', '3': '1.conv', '4': '1.{norm}', '6': '2.conv', '7': '2.{norm}'}


def _mmpretrain_layout(state: dict, norm: str) -> dict:
    """Our ResNetV1c/V1d keys as mmpretrain writes them: the deep stem as three mmcv ConvModules ``stem.K.conv`` /
    ``stem.K.bn`` (``.gn`` for group norm); shortcuts as ours (pool first only where the stage downsamples)."""
    def rename(key: str) -> str:
        return re.sub(r'^stem\.(\d)\.', lambda m: f'stem.{MMPRETRAIN_STEM[m[1]].format(norm=norm)}.', key)
    return {f'backbone.{rename(k)}': v for k, v in state.items()}


@pytest.mark.parametrize('variant, name', [('ResNetV1d', 'resnet50d'), ('ResNetV1c', 'resnet50c')])
@pytest.mark.parametrize('norm_cfg, norm', [(None, 'bn'), (dict(type='GN', num_groups=2), 'gn')])
def test_mmpretrain_deep_stem_through_init_cfg(variant, name, norm_cfg, norm, tiny_backbone, save, image):
    source = tiny_backbone(name, norm_cfg=norm_cfg)
    state = _mmpretrain_layout(source.state_dict(), norm)
    assert 'backbone.stem.0.conv.weight' in state and f'backbone.stem.2.{norm}.weight' in state
    path = save({'meta': {'mmpretrain_version': '1.2.0'}, 'state_dict': state})
    extra = {} if norm_cfg is None else dict(norm_cfg=norm_cfg)
    backbone = MODELS.build(dict(type=variant, depth=50, base_channels=8, **extra,
                                 init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.',
                                               strict=True)))
    backbone.init_weights()
    for ours, theirs in zip(_features(backbone, image), _features(source, image), strict=True):
        assert (ours - theirs).abs().max().item() == 0.0
    report = load_pretrained(backbone, str(path), strict=True)  # and detected as mmpretrain, without a prefix
    assert report.source == 'mmpretrain' and not report.missing and not report.unexpected
    assert any('mmpretrain deep stem' in note for note in report.notes)


def test_keys_alone_refuse_a_conv_first_shortcut_where_the_model_pools_first():
    """Without the model's modules (``align_keys`` on keys only), a target with a pool first is still told apart."""
    from resbackbones.weights.align import align_keys
    t = torch.zeros(1)
    with pytest.raises(ValueError, match=SWAP):
        align_keys({'layer2.0.downsample.0.weight': t, 'layer2.0.downsample.1.weight': t},
                   ['layer2.0.downsample.1.weight', 'layer2.0.downsample.2.weight'])


@pytest.mark.parametrize('file_avg_down', [False, True])
def test_mmdet_detector_file_of_the_other_variant_is_refused(file_avg_down):
    from resbackbones.weights.mmdet_detection import load_mmdet_detection

    def detector(avg_down: bool):
        return MODELS.build(dict(type='FasterRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8,
                                                                  avg_down=avg_down),
                                 neck=dict(type='FPN', out_channels=16), roi_head=dict(num_classes=3)))
    state = {f'backbone.{k}': v for k, v in detector(file_avg_down).backbone.state_dict().items()}
    if file_avg_down:  # mmdet's avg-down shortcuts are pool-first in every stage
        state = {re.sub(r'^(backbone\.layer1\.0\.downsample\.)(\d)', lambda m: f'{m[1]}{int(m[2]) + 1}', k): v
                 for k, v in state.items()}
    target = detector(not file_avg_down)
    before = _snapshot(target)
    with pytest.raises(ValueError, match=SWAP):
        load_mmdet_detection(target, state)
    assert _unchanged(target, before)
