"""tools/benchmark.py: ours against torchvision's ResNet-50 in one run; the outputs are compared, in the timed
dtype and layout, before anything is timed."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import benchmark  # noqa: E402

TINY = ['--batch', '1', '--size', '32', '--rounds', '1', '--iters', '1', '--warmup', '0', '--threads', '1']


@pytest.mark.parametrize('extra', [[], ['--amp', '--channels-last', '--profile']])
def test_a_tiny_run_checks_the_outputs_and_reports_the_ratios(capsys, extra):
    assert benchmark.main(TINY + extra) == 0
    out = capsys.readouterr().out
    gap = float(out.split('(same weights, as timed): ')[1].split()[0])
    assert gap < (5e-2 if extra else 1e-4) and 'ratio ours/tv_trunk' in out and 'ratio ours/tv_full' in out


def test_a_model_that_computes_something_else_is_not_timed(monkeypatch, capsys):
    """The gap was printed and the timing went on: a faster wrong model would have counted."""
    real = benchmark.build_models

    def broken():
        models = real()
        with torch.no_grad():
            models['ours'].layer4[2].conv3.weight.mul_(2)
        return models
    monkeypatch.setattr(benchmark, 'build_models', broken)
    with pytest.raises(SystemExit, match=r'ours and tv_trunk differ by .* so their timings would not compare'):
        benchmark.main(TINY)
    assert 'ratio ours' not in capsys.readouterr().out
