"""tools/analysis/plot_curves.py: reads mmengine's scalars json, plots loss per iter and accuracy per epoch."""
from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'plot_curves.py'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


@pytest.fixture(scope='module')
def plot():
    spec = importlib.util.spec_from_file_location('plot_curves', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_log(work_dir: Path, stamp: str = '20250101_000000', epochs: int = 2, iters_per_epoch: int = 3) -> Path:
    """The lines mmengine's LoggerHook writes: train lines per iteration, one val line per epoch."""
    lines, it = [], 0
    for epoch in range(1, epochs + 1):
        for _ in range(iters_per_epoch):
            it += 1
            lines.append(dict(lr=0.1, data_time=0.01, loss=2.0 / it, time=0.1, epoch=epoch, iter=it, step=it))
        lines.append({'accuracy/top1': 40.0 * epoch, 'accuracy/top5': 90.0, 'data_time': 0.01, 'step': epoch})
    log = work_dir / stamp / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    return log


def test_series_axes(plot, tmp_path):
    records = plot.read_scalars(write_log(tmp_path))
    assert plot.series(records, 'loss') == ('iteration', [1, 2, 3, 4, 5, 6], pytest.approx([2 / i for i in range(1, 7)]))
    assert plot.series(records, 'accuracy/top1') == ('epoch (validation step)', [1, 2], [40.0, 80.0])
    # data_time is on both kinds of line, as mmengine writes it: drawn from the training lines alone (the epochs'
    # validation points went onto the iteration axis as steps 1 and 2)
    assert plot.series(records, 'data_time') == ('iteration (training lines only)', [1, 2, 3, 4, 5, 6], [0.01] * 6)


def test_validation_steps_of_an_iteration_based_run_are_iterations(plot):
    # log_metric_by_epoch=False (adamw_cosine_iters.py): mDice was drawn at 'epoch 200'
    records = [dict(loss=1.0, iter=100, step=100), dict(loss=0.5, iter=200, step=200), {'mDice': 0.8, 'step': 200}]
    assert plot.series(records, 'mDice') == ('iteration (validation step)', [200], [0.8])


@pytest.mark.parametrize('records, keys', [
    ([dict(loss=1.0, iter=1, step=1), {'accuracy/top1': 40.0, 'accuracy/top5': 90.0, 'data_time': 0.1, 'step': 1}],
     ['loss', 'accuracy/top1']),
    # a recognizer's or U-Net's run failed without --keys: 'accuracy/top1' is in no line of the log
    ([dict(loss=1.0, iter=1, step=1), {'data_time': 0.1, 'acc/top1': 0.5, 'acc/top5': 0.9, 'step': 1}],
     ['loss', 'acc/top1']),
    ([dict(loss=1.0, iter=1, step=1), {'mDice': 0.8, 'step': 1}], ['loss', 'mDice']),
    ([dict(loss=1.0, iter=1, step=1)], ['loss']),  # no validation yet
])
def test_default_keys_are_the_loss_and_the_first_validation_metric(plot, records, keys):
    assert plot.default_keys(records) == keys


@pytest.mark.parametrize('given', ['work_dir', 'vis_data', 'json'])
def test_cli_writes_png_from_newest_run(plot, tmp_path, capsys, given):
    old = write_log(tmp_path / 'wd', '20250101_000000')
    new = write_log(tmp_path / 'wd', '20250102_000000')
    os.utime(old, (1, 1))
    path = {'work_dir': tmp_path / 'wd', 'vis_data': new.parent, 'json': new}[given]
    out = tmp_path / 'out' / 'curves.png'
    assert plot.main([str(path), '--out', str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 5000
    assert str(new) in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ['curves.png']  # no temp file left


def test_default_output_beside_log(plot, tmp_path):
    log = write_log(tmp_path)
    assert plot.main([str(log), '--keys', 'loss']) == 0
    assert (log.parent / 'curves.png').read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize('setup, args, message', [
    ('none', [], 'does not exist'),
    ('empty_dir', [], 'no vis_data/scalars.json under'),
    ('log', ['--keys', 'acc'], r"key 'acc' is in no line of the log; keys there: \['accuracy/top1'"),
    ('bad_line', [], r'line 2: not a json object'),
    ('no_step', [], r"line 1: expected a json object with a 'step'"),
])
def test_errors_are_one_line(plot, tmp_path, capsys, setup, args, message):
    path = tmp_path / 'x'
    if setup == 'empty_dir':
        path.mkdir()
    elif setup == 'log':
        path = write_log(tmp_path)
    elif setup in ('bad_line', 'no_step'):
        path.write_text({'bad_line': '{"loss": 1, "iter": 1, "step": 1}\n{oops\n', 'no_step': '{"loss": 1}\n'}[setup])
    assert plot.main([str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1
    assert re.search(message, err)


@pytest.mark.parametrize('out, message', [('log', 'is the log being read'),  # the log was replaced by a PNG
                                          ('curves.pdf', 'give a name ending in .png')])  # PNG bytes in a .pdf
def test_an_output_that_is_the_log_or_not_a_png_is_refused(plot, tmp_path, capsys, out, message):
    log = write_log(tmp_path)
    before = log.read_bytes()
    target = log if out == 'log' else tmp_path / out
    assert plot.main([str(log), '--out', str(target)]) == 2 and message in capsys.readouterr().err
    assert log.read_bytes() == before


def test_the_iteration_schedule_logs_validation_at_its_iteration():
    # mmengine's default log_metric_by_epoch=True put every validation of an iteration-based run at step 0
    from mmengine.config import Config
    cfg = Config.fromfile(str(SCRIPT.parents[2] / 'configs/_base_/schedules/adamw_cosine_iters.py'))
    assert cfg.default_hooks.logger.log_metric_by_epoch is False
