"""Benchmark and profiling tools refuse impossible counts before any work, as one argparse line naming the
argument: they ended in a ZeroDivisionError, a median of nothing, NaN in their JSON, or a traceback from torch."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: the shared tiny set-up
from tiny import load_tool  # noqa: E402


@pytest.mark.parametrize('tool, argv, message', [
    ('benchmark_data', ['--samples', '0'], '--samples, --steps and --batch must be >= 1; got 0, 3, 8'),
    ('benchmark_data', ['--batch', '0'], '--samples, --steps and --batch must be >= 1; got 200, 3, 0'),
    ('benchmark_det', ['--rounds', '0'], '--images, --height, --width and --rounds must be >= 1 and --warmup >= 0'),
    ('benchmark_det', ['--images', '0'], '--images, --height, --width and --rounds must be >= 1'),
    ('benchmark_det', ['--warmup', '-1'], 'got 2, 800, 1333, 3, -1'),
    ('benchmark_video_data', ['--model-steps', '-1'], '--workers and --model-steps >= 0 (0: no model steps)'),
    ('benchmark_video_data', ['--clips', '0'], '--clips and --frames must be >= 1'),
    ('benchmark_video_data', ['--long-minutes', '0.01'], 'the long video needs at least 65 frames'),
    ('benchmark_unet', ['--threads', '-1'], '--threads must be >= 1; got -1'),
    ('benchmark_unet3d', ['--threads', '0'], '--threads must be >= 1; got 0'),
    ('profile_training', ['configs/unet/unet_r34_nuclei.py', '--json', '/nonexistent/folder/ops.json'],
     '--json /nonexistent/folder/ops.json: folder /nonexistent/folder does not exist or is not writable'),
])
def test_impossible_counts_are_one_argparse_line(tool, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    with pytest.raises(SystemExit) as exit_:
        load_tool(tool).main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the no-GPU message')
def test_unet3d_benchmark_names_a_missing_gpu(capsys):
    with pytest.raises(SystemExit):
        load_tool('benchmark_unet3d').main(['--device', 'cuda'])
    assert '--device cuda: torch.cuda.is_available() is False' in capsys.readouterr().err
