"""Schedulers that would begin after a shortened run ends are left out; an end before its begin is named."""
import sys
from pathlib import Path

import pytest

from resbackbones.engine.schedule_span import check_iteration_spans, schedulers_in_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_runner import make_runner  # noqa: E402
from tiny import tiny_setup  # noqa: E402

WARMUP = dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True)
COSINE = dict(type='CosineAnnealingLR', by_epoch=True, begin=1, eta_min=0, convert_to_iter_based=True)


@pytest.mark.parametrize('max_epochs, kept', [(1, [WARMUP]), (2, [WARMUP, COSINE])])
def test_a_scheduler_beginning_at_the_runs_end_is_left_out(max_epochs, kept):
    got, left_out = schedulers_in_run([WARMUP, COSINE], max_epochs, max_epochs * 45)
    assert got == kept
    assert left_out == ([] if max_epochs == 2 else [
        'param_scheduler[1] (CosineAnnealingLR) begins at epoch 1, at or after the end of training (1 epochs): '
        'left out, it would never act'])


def test_iteration_schedulers_compare_with_max_iters_and_an_explicit_end_is_checked():
    by_iter = dict(type='ConstantLR', by_epoch=False, begin=100)
    assert schedulers_in_run([by_iter], max_epochs=10, max_iters=100)[0] == []
    assert schedulers_in_run([by_iter], max_epochs=10, max_iters=101)[0] == [by_iter]
    assert schedulers_in_run([by_iter], None, None)[0] == [by_iter]  # no train loop (testing): nothing to compare
    with pytest.raises(ValueError, match=r'param_scheduler\[0\] \(ConstantLR\): end=100 must be after begin=100'):
        schedulers_in_run([dict(by_iter, end=100)], max_epochs=10, max_iters=1000)


def test_a_one_epoch_run_of_a_warmup_then_cosine_config_trains(tmp_path):
    config = tiny_setup(tmp_path, max_epochs=1)
    runner = make_runner(config, tmp_path / 'work', 'short', param_scheduler=[WARMUP, COSINE])
    runner.train()  # mmengine: "end should be larger than begin, but got begin=4, end=4"
    assert runner.epoch == 1 and [type(s).__name__ for s in runner.param_schedulers] == ['LinearLR']


@pytest.mark.parametrize('end, message', [
    (0.5, r'param_scheduler\[0\] \(LinearLR\) spans one iteration \(begin=0, end=0.5 epochs of 2 iterations\): '
          r"mmengine's linear schedulers then never leave start_factor"),
    (0.25, r'param_scheduler\[0\] \(LinearLR\) spans 0 iterations \(begin=0, end=0.25 epochs of 2 iterations\)'),
])
def test_a_warmup_rounded_to_one_iteration_or_none_is_named(end, message):
    # one iteration: the lr stayed at 1e-6 of its value for the whole run (an arcface_torch warmup_epoch of 0.5 on
    # 2 iterations per epoch); none: mmengine's "end should be larger than begin, but got begin=0, end=0"
    with pytest.raises(ValueError, match=message):
        check_iteration_spans([dict(WARMUP, start_factor=1e-6, end=end), COSINE], epoch_length=2)
    check_iteration_spans([dict(WARMUP, end=1), COSINE], epoch_length=2)  # two iterations: fine


def test_the_runner_checks_spans_with_its_loader_length(tmp_path):
    config = tiny_setup(tmp_path, max_epochs=1)  # 16 images in batches of 4: 4 iterations per epoch
    runner = make_runner(config, tmp_path / 'work', 'span', param_scheduler=[dict(WARMUP, end=0.25), COSINE])
    with pytest.raises(ValueError, match=r'spans one iteration \(begin=0, end=0.25 epochs of 4 iterations\)'):
        runner.train()
