"""mmengine init_cfg on ResNet: every documented 'Pretrained' key honoured, and a list of initialisers."""
from __future__ import annotations

import pytest
import torch
import torchvision

from resbackbones.registry import MODELS

TINY = dict(type='ResNet', base_channels=8)


def _forward(model, x):
    with torch.no_grad():
        return model.eval()(x)


def _build(init_cfg, depth: int = 50):
    return MODELS.build(dict(TINY, depth=depth, init_cfg=init_cfg))


@pytest.fixture
def r101_file(tiny_backbone, save):
    return str(save(tiny_backbone('resnet101').state_dict(), 'r101.pth'))


def test_strict_in_init_cfg_refuses_another_depth(r101_file):
    backbone = _build(dict(type='Pretrained', checkpoint=r101_file, strict=True))
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    with pytest.raises(ValueError, match=r'strict load of .*r101\.pth: 0 backbone keys missing .*'
                                         r'\d+ unexpected \[.layer3\.6\.'):
        backbone.init_weights()
    assert all(torch.equal(v, before[k]) for k, v in backbone.state_dict().items())
    _build(dict(type='Pretrained', checkpoint=r101_file)).init_weights()  # strict=False (default): partial load


def test_unknown_pretrained_key_is_refused(r101_file):
    with pytest.raises(ValueError, match=r"init_cfg 'Pretrained' does not take 'strct'.*strict"):
        _build(dict(type='Pretrained', checkpoint=r101_file, strct=True)).init_weights()


def test_map_location_is_accepted(tiny_backbone, save, image):
    source = tiny_backbone('resnet50')
    backbone = _build(dict(type='Pretrained', checkpoint=str(save(source.state_dict())), map_location='cpu'))
    backbone.init_weights()
    assert all(torch.equal(a, b) for a, b in zip(_forward(backbone, image), _forward(source, image)))


def test_list_with_pretrained_loads_it_after_the_others(tiny_backbone, save, image):
    """As mmengine orders them: the other initialisers first, then the checkpoint, which wins where it has keys."""
    source = tiny_backbone('resnet50')
    state = {k: v for k, v in source.state_dict().items() if not k.startswith('layer4.')}
    backbone = _build([dict(type='Constant', layer='Conv2d', val=0.5),
                       dict(type='Pretrained', checkpoint=str(save(state)))])
    backbone.init_weights()
    assert torch.equal(backbone.layer3[0].conv1.weight, source.layer3[0].conv1.weight)
    assert (backbone.layer4[0].conv1.weight == 0.5).all()  # not in the file: the Constant initialiser's value


def test_list_without_pretrained_is_mmengine_init():
    backbone = _build([dict(type='Kaiming', layer='Conv2d'), dict(type='Constant', val=0.25, layer=['_BatchNorm'])])
    backbone.init_weights()
    assert (backbone.bn1.weight == 0.25).all() and (backbone.layer1[0].bn3.weight == 0.25).all()


def test_list_with_two_pretrained_is_refused(r101_file):
    with pytest.raises(ValueError, match=r"init_cfg has 2 'Pretrained' entries"):
        _build([dict(type='Pretrained', checkpoint=r101_file), dict(type='Pretrained', checkpoint=r101_file)]
               ).init_weights()


@pytest.mark.parametrize('model', [
    dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18), num_classes=5),
    dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18),
         cls_head=dict(type='TSNHead', num_classes=5, in_channels=512, dropout_ratio=0.0)),
])
def test_a_whole_models_pretrained_converts_foreign_files(model, save):
    """A torchvision classifier file through the whole model's init_cfg: mmengine's key-for-key loader matched
    none of its keys (they lack 'backbone.'/'head.') and left the model random, with a warning."""
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(num_classes=5).eval()
    path = str(save(reference.state_dict(), 'tv18.pth'))
    built = MODELS.build(dict(model, init_cfg=dict(type='Pretrained', checkpoint=path)))
    built.init_weights()
    for name, value in reference.state_dict().items():
        ours = built.state_dict()[f'{"head" if name.startswith("fc.") else "backbone"}.{name}']
        assert torch.equal(ours, value), name
    strict = MODELS.build(dict(model, backbone=dict(type='ResNet', depth=34),
                               init_cfg=dict(type='Pretrained', checkpoint=path, strict=True)))
    with pytest.raises(ValueError, match=r'strict load of .*tv18\.pth'):
        strict.init_weights()
