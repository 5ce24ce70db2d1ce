"""resbackbones/analysis/complexity.py: parameter and multiply-add counts agree with the paper and torchvision."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from resbackbones import create_model
from resbackbones.analysis import count_gmacs, count_params

SHAPE = (3, 224, 224)


def on_meta(build, *args, **kwargs) -> nn.Module:
    with torch.device('meta'):
        return build(*args, **kwargs)


# He et al. 2016, Table 1 ("FLOPs" there are multiply-adds): the original, caffe-style nets, counted with the
# 1000-class fc. Basic blocks place their stride the same way in both styles, so resnet18/34 are the paper's nets.
PAPER_GMACS = [('resnet18', 1.8), ('resnet34', 3.6), ('resnet50_caffe', 3.8), ('resnet101_caffe', 7.6),
               ('resnet152_caffe', 11.3),
               ('resnet50', 4.1)]  # torchvision's table: stride on the 3x3 conv ("ResNet v1.5")


@pytest.mark.parametrize('name, expected', PAPER_GMACS)
def test_gmacs_match_published_figures(name, expected):
    gmacs = count_gmacs(on_meta(create_model, name, num_classes=1000), SHAPE)
    assert gmacs == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize('name', ['resnet18', 'resnet50', 'resnet152', 'resnext50_32x4d', 'wide_resnet50_2'])
def test_counts_equal_torchvision_model_of_the_same_name(name):
    ours = on_meta(create_model, name, num_classes=1000)
    theirs = on_meta(getattr(torchvision.models, name))
    assert count_gmacs(ours, SHAPE) == count_gmacs(theirs, SHAPE)
    assert count_params(ours) == count_params(theirs)


def test_caffe_style_moves_work_not_weights():
    caffe, pytorch = on_meta(create_model, 'resnet50_caffe'), on_meta(create_model, 'resnet50')
    assert count_params(caffe) == count_params(pytorch)
    assert count_gmacs(caffe, SHAPE) < count_gmacs(pytorch, SHAPE)


@pytest.mark.parametrize('model, shape, macs', [
    (nn.Conv2d(3, 8, 3, padding=1, bias=False), (3, 10, 10), 8 * 3 * 9 * 10 * 10),
    (nn.Conv2d(4, 8, 3, padding=1, groups=2, bias=False), (4, 5, 5), 8 * 2 * 9 * 5 * 5),
    (nn.Sequential(nn.Flatten(), nn.Linear(12, 5)), (3, 2, 2), 12 * 5),
    (nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2)), (3, 4, 4), 0),
])
def test_counts_one_multiply_add_per_weight_use(model, shape, macs):
    assert count_gmacs(model, shape) * 1e9 == pytest.approx(macs)


def test_meta_and_cpu_models_count_the_same():
    assert count_gmacs(create_model('resnet18'), (3, 64, 64)) == count_gmacs(
        on_meta(create_model, 'resnet18'), (3, 64, 64))


@pytest.mark.parametrize('modes', [(True, True, True), (False, False, False), (True, True, False)])
def test_counting_restores_every_module_mode(modes):
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    for module, training in zip(model.modules(), modes):
        module.training = training
    count_gmacs(model, (3, 8, 8))
    assert tuple(m.training for m in model.modules()) == modes


def test_shared_parameters_count_once():
    conv = nn.Conv2d(2, 2, 1)
    assert count_params(nn.Sequential(conv, conv)) == count_params(conv) == 2 * 2 + 2


@pytest.mark.parametrize('shape', [(224, 224), (0, 224, 224), (3.0, 224, 224), (True, 8, 8), '3x224x224', None])
def test_bad_input_shape_is_named(shape):
    with pytest.raises(ValueError, match='input_shape'):
        count_gmacs(nn.Conv2d(3, 4, 1), shape)


@pytest.mark.parametrize('modulated, groups', [(False, 1), (True, 1), (True, 2)])
def test_a_deformable_conv_counts_as_its_convolution_plus_its_offset_conv(modulated, groups):
    from resbackbones.layers.deform_conv import DeformConv2dPack
    layer = DeformConv2dPack(8, 16, 3, stride=2, padding=1, groups=groups, modulated=modulated)
    offsets = (3 if modulated else 2) * 9
    # 16 x 8 x 8 outputs, each 8 / groups x 3 x 3 multiply-adds; the offset conv: offsets x 8 x 8 outputs of 8 x 9
    expected = 16 * 64 * (8 // groups) * 9 + offsets * 64 * 8 * 9
    assert count_gmacs(layer, (8, 16, 16)) * 1e9 == pytest.approx(expected)  # was the offset conv's alone


@pytest.mark.parametrize('batch', [0, -1, True, 1.5])
def test_bad_batch_is_named(batch):
    with pytest.raises(ValueError, match=f'batch must be an integer >= 1; got {batch!r}'):
        count_gmacs(nn.Conv2d(3, 4, 3), (3, 8, 8), batch=batch)
