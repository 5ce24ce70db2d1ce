"""tools/benchmark_unet.py: ours and smp's Unet('resnet34') timed with the same weights, checked equal first."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import benchmark_unet  # noqa: E402

TINY = ['--size', '64', '--image', '64', '--batch', '2', '--repeats', '1', '--threads', '1']


def test_both_models_hold_the_same_weights_and_agree_before_timing(capsys):
    """The two had different random weights and were never compared: a faster wrong model would have counted."""
    result = benchmark_unet.main(TINY)
    assert result['output_gap'] < 1e-5 and result['params']['ours'] == result['params']['smp']
    assert result['ratio_infer'] > 0 and result['ratio_train'] > 0


def test_a_model_that_computes_something_else_is_not_timed(monkeypatch):
    monkeypatch.setattr(benchmark_unet, 'share_weights', lambda ours, reference: None)  # two random inits
    with pytest.raises(SystemExit, match='ours and smp give logits .* apart'):
        benchmark_unet.main(TINY)
