"""tools/benchmark_det.py: ours and torchvision's Faster R-CNN with the same weights, checked to detect alike before
their training steps are timed."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import benchmark_det  # noqa: E402

TINY = ['--height', '160', '--width', '224', '--images', '1', '--rounds', '1', '--warmup', '0', '--no-memory']


@pytest.mark.slow
def test_same_weights_same_detections_then_the_ratio(capsys, monkeypatch):
    assert benchmark_det.main(TINY) == 0
    out = capsys.readouterr().out
    assert 'top detection scores agree to' in out and 'ratio ours / torchvision: training speed' in out
    real = benchmark_det.build

    def altered(which, *args):  # ours with one weight changed: it must not be timed as the same model
        model = real(which, *args)
        if which == 'ours':
            with torch.no_grad():
                model.roi_heads.box_predictor.cls_score.weight.mul_(3)
        return model
    monkeypatch.setattr(benchmark_det, 'build', altered)
    with pytest.raises(SystemExit, match='ours and torchvision give other detections'):
        benchmark_det.main(TINY)
