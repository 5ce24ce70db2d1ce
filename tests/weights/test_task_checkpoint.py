"""A foreign whole-model checkpoint loads whole into the task model, or is refused; ours is left to mmengine."""
import logging
import sys
from pathlib import Path

import pytest
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: insightface_reference
from insightface_reference import InsightfaceIResNet  # noqa: E402

from resbackbones.registry import MODELS  # noqa: E402
from resbackbones.weights.task_checkpoint import load_task_checkpoint  # noqa: E402

CLASSIFIER = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18), num_classes=7)


def test_our_own_checkpoint_is_left_to_mmengine(tmp_path):
    model = MODELS.build(CLASSIFIER)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp_path / 'ours.pth')
    assert load_task_checkpoint(model, tmp_path / 'ours.pth') is None


def test_torchvision_classifier_loads_whole(tmp_path):
    torch.manual_seed(0)
    theirs = torchvision.models.resnet18(num_classes=7).eval()
    torch.save(theirs.state_dict(), tmp_path / 'tv.pth')
    model = MODELS.build(CLASSIFIER).eval()
    done = load_task_checkpoint(model, tmp_path / 'tv.pth')
    assert 'tv.pth: torchvision checkpoint' in done
    assert "source: torchvision (detected: flat 'conv1'" in done  # the user gave no source: not '(given)'
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), theirs(x), atol=1e-4, rtol=1e-4)


def test_a_head_that_does_not_fit_is_refused_for_a_score(tmp_path):
    torch.save(torchvision.models.resnet18(num_classes=1000).state_dict(), tmp_path / 'tv1000.pth')
    model = MODELS.build(CLASSIFIER)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r'tv1000.pth: torchvision checkpoint .* only in part.*num_classes.*'
                                         r'The model was not changed'):
        load_task_checkpoint(model, tmp_path / 'tv1000.pth')
    # the backbone held the file's weights after the error (docs: all or nothing)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_fine_tuning_loads_what_fits_and_warns(tmp_path, log_records):
    """Not strict (a training run's load_from): the backbone loads, the 1000-class head stays as initialised, as
    mmengine's load_from does and mmaction2's fine-tuning configs need (it was refused)."""
    theirs = torchvision.models.resnet18(num_classes=1000)
    torch.save(theirs.state_dict(), tmp_path / 'tv1000.pth')
    model = MODELS.build(CLASSIFIER)
    head = model.head.fc.weight.detach().clone()
    done = load_task_checkpoint(model, tmp_path / 'tv1000.pth', strict=False)
    assert 'tv1000.pth: torchvision checkpoint' in done
    torch.testing.assert_close(model.backbone.layer4[1].conv2.weight, theirs.layer4[1].conv2.weight)
    assert torch.equal(model.head.fc.weight, head)
    warnings = [r.getMessage() for r in log_records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and 'head.fc.weight' in warnings[0]


def test_insightface_file_into_a_face_recognizer(tmp_path):
    torch.manual_seed(0)
    theirs = InsightfaceIResNet(embedding=32, size=112).eval()
    for m in theirs.modules():  # non-trivial batch-norm statistics
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    torch.save(theirs.state_dict(), tmp_path / 'model.pt')
    model = MODELS.build(dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18), num_classes=10,
                              input_size=(112, 112), embedding=dict(embedding_dim=32),
                              margin_head=dict(type='ArcFaceHead'))).eval()
    assert 'model.pt: insightface checkpoint' in load_task_checkpoint(model, tmp_path / 'model.pt')
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(model(x), theirs(x), atol=1e-4, rtol=1e-4)


def test_no_converter_for_the_model_is_named(tmp_path):
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / 'tv.pth')
    unet = MODELS.build(dict(type='UNet', num_classes=2, backbone=dict(type='ResNet', depth=18,
                                                                      out_indices=('stem', 0, 1, 2, 3))))
    with pytest.raises(ValueError, match='no converter loads it whole into a UNet'):
        load_task_checkpoint(unet, tmp_path / 'tv.pth')


@pytest.mark.parametrize('write, model', [
    (lambda path: torch.save(torchvision.models.resnet34(num_classes=7).state_dict(), path), CLASSIFIER),
    (lambda path: torch.save(InsightfaceIResNet(blocks=(3, 4, 6, 3), embedding=32, size=112).state_dict(), path),
     dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18), num_classes=10, input_size=(112, 112),
          embedding=dict(embedding_dim=32), margin_head=dict(type='ArcFaceHead'))),
])
@pytest.mark.parametrize('strict', [True, False])  # fine-tuning too: a deeper network is another network
def test_a_foreign_file_of_another_depth_is_named_in_the_error(tmp_path, write, model, strict):
    write(tmp_path / 'deeper.pth')
    with pytest.raises(ValueError) as err:
        load_task_checkpoint(MODELS.build(model), tmp_path / 'deeper.pth', strict=strict)
    message = str(err.value)
    assert str(tmp_path / 'deeper.pth') in message and '<state dict>' not in message
    assert "unexpected ['layer1.2." in message  # the deeper file's own key names


def test_a_file_of_which_no_key_names_a_weight_is_refused(tmp_path):
    """A torchvision backbone saved without its fc reads as our backbone format; into a classifier nothing of it
    would load (its keys lack 'backbone.'), where mmengine warned and went on with a random model."""
    state = {k: v for k, v in torchvision.models.resnet18().state_dict().items() if not k.startswith('fc.')}
    torch.save(state, tmp_path / 'no_fc.pth')
    with pytest.raises(ValueError, match=r"no_fc.pth: none of its 120 tensors .* model.backbone.init_cfg"):
        load_task_checkpoint(MODELS.build(CLASSIFIER), tmp_path / 'no_fc.pth')


@pytest.mark.parametrize('model', [
    dict(type='UNet', num_classes=3, backbone=dict(type='ResNet', depth=18, base_channels=8,
                                                   out_indices=('stem', 0, 1, 2, 3))),
    dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18, base_channels=8), num_classes=10,
         input_size=(32, 32), embedding=dict(embedding_dim=16), margin_head=dict(type='ArcFaceHead')),
])
def test_our_file_of_another_head_shape_is_left_to_mmengine(tmp_path, model):
    """A U-Net or face checkpoint of ours with another num_classes read as an mmpretrain file, and no converter
    took it ('no converter loads it whole into a UNet'): fine-tuning from it was refused. Its names are the
    model's: mmengine loads it (the head skipped, with its warning; strictly in tools/test.py, a named error)."""
    theirs = MODELS.build(dict(model, num_classes=model['num_classes'] * 2))
    torch.save({'state_dict': theirs.state_dict(), 'meta': {'epoch': 1}}, tmp_path / 'ours.pth')  # as train.py's
    assert load_task_checkpoint(MODELS.build(model), tmp_path / 'ours.pth') is None


def test_a_2d_recognizer_file_is_not_scored_as_a_3d_model(tmp_path):
    """tools/test.py inflated a TSN checkpoint into a Recognizer3D and scored it (1.0 where its own config gave
    0.5); a training run's load_from still starts a 3D model from it (I3D inflation)."""
    tsn = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
                            cls_head=dict(type='TSNHead', num_classes=4)))
    torch.save({'state_dict': tsn.state_dict(), 'meta': {'epoch': 1}}, tmp_path / 'tsn.pth')  # as train.py's
    i3d = dict(type='Recognizer3D', backbone=dict(type='ResNet3d', depth=18, base_channels=8),
               cls_head=dict(type='I3DHead', num_classes=4))
    model = MODELS.build(i3d)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r'it holds 2D weights, which would be made 3D \(\d+ kernels'):
        load_task_checkpoint(model, tmp_path / 'tsn.pth')
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert 'inflated 2D -> 3D' in load_task_checkpoint(model, tmp_path / 'tsn.pth', strict=False)
