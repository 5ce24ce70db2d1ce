"""tools/benchmark_video_data.py: its seek-and-decode pipeline gives the same clips as the full-decode baseline."""
import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from resbackbones.transforms.video.writer import write_video

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'benchmark_video_data.py'


def test_pyav_and_full_decode_clips_are_identical(tmp_path):
    spec = importlib.util.spec_from_file_location('benchmark_video_data', SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = str(tmp_path / 'v.mp4')
    write_video(path, bench.smooth_frames(90, 72, 128), gop=25)
    clips = {}
    for reader in ('pyav', 'full'):
        np.random.seed(0)
        random.seed(0)
        clips[reader] = [bench.ClipSet(path, 3, reader)[i]['inputs'] for i in range(3)]
    assert clips['pyav'][0].shape == (1, 3, 8, 224, 224)
    assert all(torch.equal(a, b) for a, b in zip(clips['pyav'], clips['full']))
    assert not torch.equal(clips['pyav'][0], clips['pyav'][1])  # different random clips, so the check means something


def test_an_out_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    """--out naming a folder raised IsADirectoryError after the whole run (about 4 minutes), the report lost."""
    spec = importlib.util.spec_from_file_location('benchmark_video_data', SCRIPT)
    benchmark_video_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark_video_data)
    with pytest.raises(SystemExit):
        benchmark_video_data.main(['--out', str(tmp_path)])
    assert f'--out {tmp_path} is a folder; give a file name' in capsys.readouterr().err
    (tmp_path / 'file').write_text('x')
    with pytest.raises(SystemExit):
        benchmark_video_data.main(['--out', str(tmp_path / 'file' / 'r.json')])
    assert 'cannot be created' in capsys.readouterr().err
