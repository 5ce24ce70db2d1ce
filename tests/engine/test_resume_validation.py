"""A resumed run first runs the validation its checkpoint's epoch was due (and a kill may have cut short)."""
import sys
from pathlib import Path

import pytest
from mmengine.hooks import Hook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_runner import make_runner  # noqa: E402
from tiny import tiny_setup  # noqa: E402


class Killed(Exception):
    pass


class KillDuringValidation(Hook):
    """Stands for a SIGKILL in the middle of epoch ``epoch``'s validation (its checkpoint is already written)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.epoch == self.epoch:
            raise Killed


class RecordValidations(Hook):
    def __init__(self):
        self.epochs, self.scores = [], []

    def after_val_epoch(self, runner, metrics=None):
        self.epochs.append(runner.epoch)
        self.scores.append(metrics['accuracy/top1'])


@pytest.mark.parametrize('killed_at, max_epochs, val_interval, expected', [
    (2, 2, 1, [2]),  # the last epoch's validation: without the fix the finished model was never validated
    (1, 3, 1, [1, 2, 3]),
    (2, 3, 2, [2, 3]),  # due at 2 (interval) and at 3 (the end)
])
def test_the_interrupted_validation_runs_first(tmp_path, killed_at, max_epochs, val_interval, expected):
    config = tiny_setup(tmp_path, max_epochs=max_epochs)
    work = tmp_path / 'work'
    loop = dict(max_epochs=max_epochs, val_interval=val_interval)
    first = make_runner(config, work, 'killed', train_cfg=loop)
    first.register_hook(KillDuringValidation(killed_at))
    with pytest.raises(Killed):
        first.train()
    assert (work / f'epoch_{killed_at}.pth').is_file()

    resumed = make_runner(config, work, 'resumed', resume=True, train_cfg=loop)
    record = RecordValidations()
    resumed.register_hook(record)
    resumed.train()
    assert record.epochs == expected


def test_nothing_is_validated_again_where_no_validation_was_due(tmp_path):
    config = tiny_setup(tmp_path, max_epochs=1)
    work = tmp_path / 'work'
    make_runner(config, work, 'first', train_cfg=dict(max_epochs=1, val_interval=2)).train()  # ends at 1: validated
    resumed = make_runner(config, work, 'resumed', resume=True, train_cfg=dict(max_epochs=3, val_interval=2))
    record = RecordValidations()
    resumed.register_hook(record)
    resumed.train()
    assert record.epochs == [2, 3]
