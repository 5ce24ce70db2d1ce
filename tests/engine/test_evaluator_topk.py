"""A top-k above the model's classes is refused before any training or testing, with the key to change."""
import sys
from pathlib import Path

import pytest
from torch import nn

from resbackbones.engine.cli import run_tool
from resbackbones.engine.evaluator_topk import check_topk, scored_classes
from resbackbones.evaluation import Accuracy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny import load_tool, tiny_setup  # noqa: E402


class Evaluator:  # mmengine's Evaluator, as far as the check reads it
    def __init__(self, *metrics):
        self.metrics = list(metrics)


class Classifier(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.head = nn.Module()
        self.head.fc = nn.Linear(4, classes)


def test_scored_classes_reads_num_classes_or_the_head_width():
    assert scored_classes(Classifier(3)) == 3
    named = Classifier(3)
    named.num_classes = 7
    assert scored_classes(named) == 7
    assert scored_classes(nn.Conv2d(1, 1, 1)) is None


@pytest.mark.parametrize('classes, topk, refused', [(3, (1, 5), True), (5, (1, 5), False), (2, (2,), False),
                                                    (1, (1, 2, 3), True)])
def test_a_k_above_the_classes_is_refused(classes, topk, refused):
    evaluator = Evaluator(Accuracy(topk=topk))
    if not refused:
        check_topk(evaluator, Classifier(classes), 'val_evaluator')
        return
    with pytest.raises(ValueError) as err:
        check_topk(evaluator, Classifier(classes), 'val_evaluator')
    fits = tuple(k for k in topk if k <= classes)
    assert f'asks for top-{max(topk)}, but the model scores {classes} classes' in str(err.value)
    assert f'--cfg-options "val_evaluator.topk={fits}"' in str(err.value)


def test_a_list_of_metrics_is_told_the_index_to_change():
    # 'val_evaluator.topk=(1,)' on a list: the suggested fix failed with 'list indices must be integers'
    evaluator = Evaluator(Accuracy(topk=(1,)), Accuracy(topk=(1, 5)))
    with pytest.raises(ValueError, match=r"set val_evaluator\[1\]=dict\(type='Accuracy', topk=\(1,\)\) in the "
                                         r'config, or --cfg-options "val_evaluator\.1\.topk=\(1,\)"'):
        check_topk(evaluator, Classifier(3), 'val_evaluator', listed=True)


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_refuse_before_running(tool, tmp_path, capsys):
    config = tiny_setup(tmp_path, extra='model = dict(num_classes=3)', max_epochs=1)  # base config: topk=(1, 5)
    work = tmp_path / 'work'
    args = [str(config), '--work-dir', str(work)]
    if tool == 'test':
        assert run_tool(load_tool('train').main, args + ['--cfg-options', 'val_evaluator.topk=1'], 'train.py') == 0
        args = [str(config), str(work / 'epoch_1.pth'), '--work-dir', str(work)]
    before = sorted(p.name for p in work.iterdir()) if work.exists() else []
    status = run_tool(load_tool(tool).main, args, prog=f'{tool}.py')
    err = capsys.readouterr().err
    where = 'val_evaluator' if tool == 'train' else 'test_evaluator'
    assert status == 2 and f'{tool}.py: error: {where}: Accuracy topk=(1, 5) asks for top-5' in err
    assert not [p for p in work.glob('*.pth') if p.name not in before]  # nothing trained, nothing written
