"""tools/profile_training.py on a tiny U-Net: the window is profiled, the run stops after it, operators come back,
split by input shapes where asked."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools'))
import profile_training  # noqa: E402

TINY = ['model.backbone.depth=18', 'model.backbone.base_channels=8', 'model.decoder.decoder_channels=[32,16,8,8,8]',
        'train_dataloader.batch_size=2']
CONFIG = str(REPO / 'configs/unet/unet_r34_nuclei.py')


def test_profiles_the_window_and_writes_operators(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the config's data_root is relative to the repository
    out = tmp_path / 'ops.json'
    windows = []
    real = profile_training.ProfileWindow

    def recording(start, iters, shapes_of=()):
        window = real(start, iters, shapes_of)
        window.trained = 0
        inner = window.after_train_iter

        def counting(runner, batch_idx, data_batch=None, outputs=None):
            window.trained += 1
            inner(runner, batch_idx, data_batch, outputs)
        window.after_train_iter = counting
        windows.append(window)
        return window

    monkeypatch.setattr(profile_training, 'ProfileWindow', recording)
    assert profile_training.main([CONFIG, '--start', '2', '--iters', '2', '--json', str(out),
                                  '--shapes', 'aten::convolution_backward', '--cfg-options', *TINY]) == 0
    ops = json.loads(out.read_text())
    convolution = [v for k, v in ops.items() if 'convolution' in k]
    assert convolution and all(ms > 0 and calls > 0 for ms, calls in convolution)
    assert windows[0].seconds_per_iter > 0 and windows[0].trained == 4  # the run stopped after the window
    printed = capsys.readouterr().out
    assert 'iterations 2-3' in printed and 'ms/iter' in printed
    by_shape = windows[0].per_shape['aten::convolution_backward']
    # the stem's backward (grey input, batch 2) is one of the kinds, and the kinds add up to the operator's calls
    assert any(inputs.startswith('[[2, 8, ') and ', [8, 1, 7, 7]' in inputs for inputs, _, _ in by_shape)
    assert sum(calls for _, _, calls in by_shape) == pytest.approx(ops['aten::convolution_backward'][1])
    assert 'aten::convolution_backward by inputs' in printed


def test_a_window_past_the_run_is_refused():
    with pytest.raises(SystemExit, match=r"--start \+ --iters = 10001 is past the config's 200 training iterations"):
        profile_training.main([CONFIG, '--start', '10000', '--iters', '1'])


def test_a_window_past_an_epoch_based_run_is_refused_before_training(tmp_path):
    # the whole schedule trained, final validation included, before the missing window was noticed
    sys.path.insert(0, str(REPO / 'tests' / 'engine'))
    from tiny import tiny_setup
    config = tiny_setup(tmp_path, max_epochs=2)  # 16 images in batches of 4: 8 iterations
    with pytest.raises(SystemExit, match=r"--start \+ --iters = 9 is past the config's 8 training iterations"):
        profile_training.main([str(config), '--start', '8', '--iters', '1'])


def test_an_epoch_based_run_stops_after_the_window(tmp_path, capsys):
    """Lowering the loop's _max_iters does not stop mmengine's epoch loop, which trained the whole schedule (an
    'eta: -1 day' log) after the window."""
    sys.path.insert(0, str(REPO / 'tests' / 'engine'))
    from tiny import tiny_setup
    config = tiny_setup(tmp_path, max_epochs=3)  # 16 images in batches of 4: 12 iterations
    trained = []
    real = profile_training.ProfileWindow.after_train_iter

    def counting(self, runner, batch_idx, data_batch=None, outputs=None):
        trained.append(runner.iter)
        real(self, runner, batch_idx, data_batch, outputs)
    profile_training.ProfileWindow.after_train_iter = counting
    try:
        assert profile_training.main([str(config), '--start', '2', '--iters', '2']) == 0
    finally:
        profile_training.ProfileWindow.after_train_iter = real
    assert trained == [0, 1, 2, 3] and 'iterations 2-3' in capsys.readouterr().out
