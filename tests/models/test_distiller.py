"""DistillClassifier: the student's keys only (loads into the plain student), a frozen teacher, two losses."""
import pytest
import torch

from resbackbones.registry import MODELS

STUDENT = dict(backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=1, small_stem=True),
               num_classes=3)


def test_student_checkpoint_and_frozen_teacher(tmp_path):
    teacher_cfg = tmp_path / 'teacher.py'
    teacher_cfg.write_text("model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, "
                           "base_channels=4, in_channels=1, small_stem=True), num_classes=3)\n")
    teacher = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, base_channels=4,
                                                                      in_channels=1, small_stem=True),
                                num_classes=3))
    torch.save(teacher.state_dict(), tmp_path / 'teacher.pth')
    model = MODELS.build(dict(STUDENT, type='DistillClassifier', teacher_config=str(teacher_cfg),
                              teacher_checkpoint=str(tmp_path / 'teacher.pth')))
    plain = MODELS.build(dict(STUDENT, type='ImageClassifier'))
    plain.load_state_dict(model.state_dict(), strict=True)  # the student's keys, nothing of the teacher
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert not any(p is q for p in model.parameters() for q in model.teacher.parameters())
    x = torch.randn(4, 1, 8, 8)
    samples = [{'gt_label': torch.tensor(i % 3)} for i in range(4)]
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss_ce', 'loss_kd'} and losses['loss_kd'].item() > 0
    before = [p.clone() for p in model.teacher.parameters()]
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.teacher.parameters()))


def test_a_teacher_checkpoint_of_other_shapes_is_named(tmp_path):
    teacher_cfg = tmp_path / 'teacher.py'
    teacher_cfg.write_text("model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, "
                           "base_channels=4, in_channels=1, small_stem=True), num_classes=3)\n")
    wide = MODELS.build(dict(STUDENT, type='ImageClassifier'))  # base width 8, not the config's 4
    torch.save(wide.state_dict(), tmp_path / 'wide.pth')
    with pytest.raises(ValueError, match=r'wide.pth does not fit .*teacher.py: \d+ tensors differ in shape, e.g. '
                                         r'backbone.conv1.weight: checkpoint \(8, 1, 3, 3\) vs model \(4, 1, 3, 3\)'):
        MODELS.build(dict(STUDENT, type='DistillClassifier', teacher_config=str(teacher_cfg),
                          teacher_checkpoint=str(tmp_path / 'wide.pth'))).init_weights()  # as training starts


def test_the_kd_config_finds_its_teacher_config_from_any_folder(tmp_path, monkeypatch):
    from pathlib import Path

    from mmengine.config import Config
    config = Path(__file__).resolve().parents[2] / 'configs/classification/resnet18_digits_kd.py'
    monkeypatch.chdir(tmp_path)
    teacher_config = Config.fromfile(str(config)).model.teacher_config
    assert Path(teacher_config).is_file() and Path(teacher_config).name == 'resnet50_digits.py'
