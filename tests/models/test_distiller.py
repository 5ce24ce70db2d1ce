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


def _teacher(tmp_path, num_classes, classes=None):
    """A teacher config and checkpoint (with mmengine's dataset_meta when ``classes`` are given)."""
    cfg = tmp_path / f'teacher{num_classes}.py'
    cfg.write_text("model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, base_channels=8, "
                   f"in_channels=1, small_stem=True), num_classes={num_classes})\n")
    state = MODELS.build(dict(STUDENT, type='ImageClassifier', num_classes=num_classes)).state_dict()
    meta = {} if classes is None else dict(dataset_meta=dict(classes=tuple(classes)))
    torch.save(dict(state_dict=state, meta=meta), tmp_path / f'teacher{num_classes}.pth')
    return str(cfg), str(tmp_path / f'teacher{num_classes}.pth')


def test_a_teacher_of_another_class_count_is_named_before_training(tmp_path):
    config, checkpoint = _teacher(tmp_path, 10)
    student = MODELS.build(dict(STUDENT, type='DistillClassifier', teacher_config=config, teacher_checkpoint=checkpoint))
    with pytest.raises(ValueError, match=r'teacher10.pth .* has 10 classes, the student 3: distillation needs'):
        student.init_weights()  # KDLoss failed at the first step, a traceback from inside the training loop


def test_a_teacher_trained_on_other_classes_is_refused_when_training_starts(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))
    from test_runner import make_runner
    from tiny import tiny_setup
    config = tiny_setup(tmp_path, max_epochs=1)  # classes '0', '1' (the digits config's 10 outputs)
    student = dict(type='DistillClassifier', num_classes=10, teacher_config=None, teacher_checkpoint=None)
    for classes, refused in ((('x', 'y'), True), (('0', '1'), False), (None, False)):
        teacher_config, teacher_checkpoint = _teacher(tmp_path, 10, classes)
        runner = make_runner(config, tmp_path / f'work{classes}', f'kd{classes}', model=dict(
            student, teacher_config=teacher_config, teacher_checkpoint=teacher_checkpoint))
        if refused:
            from resbackbones.engine.cli import raised_in_a_loop
            with pytest.raises(ValueError, match=r"teacher .*teacher10.pth was trained on 2 classes \(x, y\) and "
                                                 r"train_dataloader.dataset has 2 \(0, 1\)") as err:
                runner.train()
            assert not raised_in_a_loop(err.value)  # train.py's one-line error, not a mid-run traceback
        else:
            runner.train()
            assert runner.epoch == 1


@pytest.mark.parametrize('missing', ['teacher_config', 'teacher_checkpoint'])
def test_a_missing_teacher_file_says_it_is_the_teachers(tmp_path, missing):
    """'config file not found: /nope.py' alone read as if the run's own config were missing."""
    teacher_cfg = tmp_path / 'teacher.py'
    teacher_cfg.write_text("model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, "
                           "base_channels=4, in_channels=1, small_stem=True), num_classes=3)\n")
    torch.save(MODELS.build(dict(STUDENT, type='ImageClassifier')).state_dict(), tmp_path / 'teacher.pth')
    files = dict(teacher_config=str(teacher_cfg), teacher_checkpoint=str(tmp_path / 'teacher.pth'))
    files[missing] = str(tmp_path / 'nope')
    with pytest.raises(ValueError, match=rf'DistillClassifier {missing} .*nope: '):
        MODELS.build(dict(STUDENT, type='DistillClassifier', **files)).init_weights()


@pytest.mark.parametrize('ce_weight', [-1, None, float('nan')])
def test_a_bad_ce_weight_is_named(ce_weight):
    """-1 maximised the cross-entropy (loss_ce -2.58 in the log); None failed at the first step, in the loop."""
    with pytest.raises(ValueError, match=f'DistillClassifier: ce_weight must be a finite number >= 0; got {ce_weight}'):
        MODELS.build(dict(STUDENT, type='DistillClassifier', teacher_config=None, teacher_checkpoint=None,
                          ce_weight=ce_weight))
