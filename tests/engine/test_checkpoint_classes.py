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
