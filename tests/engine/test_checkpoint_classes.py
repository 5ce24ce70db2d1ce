"""A checkpoint's training classes against the evaluated set's: equal lists pass, any difference is named."""
import pytest

from resbackbones.engine.checkpoint_classes import check_checkpoint_classes


def trained_on(classes):
    return dict(meta=dict(dataset_meta=dict(classes=classes)), state_dict={})


@pytest.mark.parametrize('checkpoint, evaluated', [
    (trained_on(('cat', 'dog')), dict(classes=['cat', 'dog'])),  # tuple in the file, list in the config
    (dict(state_dict={}), dict(classes=['cat'])),  # a foreign checkpoint: no meta
    (trained_on(('cat', 'dog')), dict()),  # verification pairs: no classes
    (trained_on(('cat', 'dog')), None),
])
def test_nothing_to_refuse(checkpoint, evaluated):
    check_checkpoint_classes(checkpoint, evaluated, 'c.pth', 'test_dataloader.dataset')


@pytest.mark.parametrize('evaluated, message', [
    (['cat', 'dog', 'eel'], "c.pth was trained on 2 classes (cat, dog) and test_dataloader.dataset has 3 "
                            "(cat, dog, eel); they first differ at label 2"),
    (['dog', 'cat'], 'has 2 (dog, cat); they first differ at label 0'),
    ([str(i) for i in range(20)], '(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 ... (20 in all))'),
])
def test_a_difference_is_named(evaluated, message):
    with pytest.raises(ValueError) as err:
        check_checkpoint_classes(trained_on(('cat', 'dog')), dict(classes=evaluated), 'c.pth',
                                 'test_dataloader.dataset')
    assert message in str(err.value)


@pytest.mark.parametrize('trained, evaluated, agree', [
    # a label list's numbers: a test list may lack the highest labels, not have more
    (dict(classes=('0', '1', '2'), classes_from_labels=True), dict(classes=('0', '1'), classes_from_labels=True), True),
    (dict(classes=('0', '1'), classes_from_labels=True), dict(classes=('0', '1', '2'), classes_from_labels=True),
     False),
    (dict(classes=('cat', 'dog', 'emu')), dict(classes=('0', '1'), classes_from_labels=True), True),
    (dict(classes=('a', 'b', 'c')), dict(classes=('a', 'c')), False),  # folders: c would be scored as b
])
def test_numbered_classes_agree_with_any_longer_list(trained, evaluated, agree):
    """tools/test.py refused a test list lacking the training list's highest label ('labels would stand for other
    classes'), though numbered labels cannot shift."""
    from resbackbones.engine.checkpoint_classes import classes_mismatch
    assert (classes_mismatch(trained, evaluated) is None) == agree


def test_a_validation_folder_lacking_a_class_stops_training(tmp_path, capsys):
    """The validation split's folders were sorted on their own: without class 'b' its 'c' images got label 1, and
    validation accuracy (and the best checkpoint chosen on it) was silently wrong."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tiny import load_tool, write_config, write_image_folder

    from resbackbones.engine.cli import run_tool
    write_image_folder(tmp_path / 'data' / 'train', classes=3, per_class=4)
    write_image_folder(tmp_path / 'data' / 'val', classes=3, per_class=2)
    for image in (tmp_path / 'data' / 'val' / '1').iterdir():
        image.unlink()
    (tmp_path / 'data' / 'val' / '1').rmdir()
    config = write_config(tmp_path / 'tiny.py', tmp_path / 'data', max_epochs=1)
    status = run_tool(load_tool('train').main, [str(config), '--work-dir', str(tmp_path / 'work')], prog='train.py')
    message = ('train.py: error: train_dataloader.dataset has 3 classes (0, 1, 2) and val_dataloader.dataset has 2 '
               '(0, 2); they first differ at label 1')
    assert status == 2 and message in capsys.readouterr().err
    assert not list((tmp_path / 'work').glob('*.pth'))
