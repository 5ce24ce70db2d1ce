"""tools/benchmark_roi_align.py: runs a case both ways and reports a ratio; bad arguments are named."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import benchmark_roi_align  # noqa: E402


def test_one_round_reports_both_directions(capsys):
    argv = ['--case', 'nuclei-mask', '--layout', 'channels_last', '--rounds', '1', '--threads', '1']
    assert benchmark_roi_align.main(argv) == 0
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(results) == {'nuclei-mask:channels_last:forward', 'nuclei-mask:channels_last:forward+backward'}
    for r in results.values():
        assert r['torchvision_ms'] > 0 and r['rows_ms'] > 0 and r['max_rel_gap'] < 1e-4
        assert r['ratio'] == pytest.approx(r['torchvision_ms'] / r['rows_ms'])  # one round: the ratio of its times


@pytest.mark.parametrize('argv, message', [(['--rounds', '0'], '--rounds must be >= 1'),
                                           (['--threads', '0'], '--threads must be >= 1')])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit):
        benchmark_roi_align.main(argv)
    assert message in capsys.readouterr().err


def test_kernels_that_disagree_are_not_timed(monkeypatch):
    """Nothing compared the two kernels: a faster one that pooled something else would have counted."""
    real = benchmark_roi_align.KERNELS['rows']
    monkeypatch.setitem(benchmark_roi_align.KERNELS, 'rows', lambda *args: real(*args) * 1.01)
    with pytest.raises(SystemExit, match='roi_align_rows and torchvision differ by'):
        benchmark_roi_align.main(['--case', 'nuclei-mask', '--layout', 'nchw', '--rounds', '1', '--threads', '1'])
