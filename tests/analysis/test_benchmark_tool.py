"""tools/benchmark.py: runs the same work in ours and torchvision's ResNet-50 and prints throughputs and ratios.

Only the mechanics are tested, on a tiny input; the speed target is checked by running the benchmark itself.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'benchmark.py'


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('benchmark', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('extra', [[], pytest.param(['--channels-last', '--amp', '--profile'], marks=pytest.mark.slow)])
def test_prints_same_outputs_throughputs_and_ratios(bench, capsys, extra):
    assert bench.main(['--batch', '1', '--size', '32', '--rounds', '2', '--iters', '1', '--warmup', '0', *extra]) == 0
    out = capsys.readouterr().out
    gap = float(re.search(r'on layer4 \(same weights, as timed\): (\S+)', out).group(1))
    assert gap == 0.0 if not extra else gap < 5e-2  # measured as timed: bf16 channels_last with --amp
    assert {m.group(1) for m in re.finditer(r'^(\w+)\s+median\s+[\d.]+ img/s', out, re.M)} == {
        'ours', 'tv_trunk', 'tv_full'}
    assert re.search(r'^ratio ours/tv_trunk: \d+\.\d{3} .*target >= 0\.95$', out, re.M)
    assert re.search(r'^ratio ours/tv_full: \d+\.\d{3} ', out, re.M)
    assert re.search(r'^CPU-time ratio tv_trunk/ours: \d+\.\d{3} ', out, re.M)


def test_rounds_interleave_and_count_images(bench):
    calls = []

    def model(name):
        return lambda x: calls.append(name)

    args = bench.parse_args(['--rounds', '3', '--iters', '2', '--warmup', '1', '--batch', '4'])
    rates, cpu = bench.measure({'a': model('a'), 'b': model('b'), 'c': model('c')}, torch.zeros(1), args)
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    rounds = calls[3:]
    assert [rounds[i] for i in range(0, 18, 2)] == ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']
    assert all(len(v) == 3 and min(v) > 0 for v in rates.values())
    assert all(len(v) == 3 and min(v) >= 0 for v in cpu.values())


BAD_ARGS = [['--batch', '0'], ['--rounds', '0'], ['--warmup', '-1'], ['--threads', '0'], ['--device', 'tpu']]


@pytest.mark.parametrize('argv', BAD_ARGS + ([] if torch.cuda.is_available() else [['--device', 'cuda']]))
def test_bad_arguments_exit_2(bench, argv):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2


def test_a_model_that_computes_something_else_is_not_timed(bench, monkeypatch, capsys):
    """The gap was printed and the timing went on: a faster wrong model would have counted."""
    real = bench.build_models

    def broken():
        models = real()
        with torch.no_grad():
            models['ours'].layer4[2].conv3.weight.mul_(2)
        return models
    monkeypatch.setattr(bench, 'build_models', broken)
    with pytest.raises(SystemExit, match=r'ours and tv_trunk differ by .* so their timings would not compare'):
        bench.main(['--batch', '1', '--size', '32', '--rounds', '1', '--iters', '1', '--warmup', '0'])
    assert 'ratio ours' not in capsys.readouterr().out
