"""tools/benchmark_data.py --cached: times a CachedDataset against the same pipeline uncached; bad configs named."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
import benchmark_data  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

LOAD = "[dict(type='LoadImageAndMask'), dict(type='NormalizeIntensity', mode='minmax')]"
AUGMENT = "[dict(type='RandomPatch', size=8), dict(type='PackSegInputs')]"


def write_config(tmp_path: Path, cached: bool) -> str:
    for kind in ('images', 'masks'):
        (tmp_path / kind).mkdir(exist_ok=True)
    Image.fromarray(np.arange(16 * 20, dtype=np.uint16).reshape(16, 20)).save(tmp_path / 'images' / 'a.png')
    Image.fromarray(np.eye(16, 20, dtype=np.uint8)).save(tmp_path / 'masks' / 'a.png')
    inner = f"dict(type='SegFolderDataset', data_root={str(tmp_path)!r}, classes=('bg', 'fg'), pipeline={LOAD})"
    dataset = f"dict(type='CachedDataset', dataset={inner}, pipeline={AUGMENT})" if cached else inner
    path = tmp_path / ('cached.py' if cached else 'plain.py')
    path.write_text(f'train_dataloader = dict(dataset={dataset})\n')
    return str(path)


def test_plain_equivalent_runs_both_pipelines_in_a_row():
    cached = dict(type='CachedDataset', pipeline=[dict(type='B')], dataset=dict(type='D', pipeline=[dict(type='A')]))
    assert benchmark_data.plain_equivalent(cached) == dict(type='D', pipeline=[dict(type='A'), dict(type='B')])
    assert cached['dataset']['pipeline'] == [dict(type='A')]  # the config it was given is left as it was


def test_cached_mode_prints_both_times_and_their_ratio(tmp_path, capsys):
    config = write_config(tmp_path, cached=True)
    assert benchmark_data.main(['--cached', config, '--samples', '4']) == 0
    line = capsys.readouterr().out.strip()
    found = re.fullmatch(rf'{re.escape(config)}: CachedDataset ([\d.]+) ms/sample, uncached ([\d.]+) ms/sample: '
                         r'([\d.]+)x fewer ms per sample', line)
    assert found, line
    cached, plain, ratio = map(float, found.groups())
    assert cached >= 0 and plain > 0
    # the times are printed to 0.01 ms and the ratio is of the unrounded ones: 0.02 and 0.21 ms went with 9.0x
    low = (plain - 0.005) / (cached + 0.005) - 0.05
    high = (plain + 0.005) / (cached - 0.005) + 0.05 if cached > 0.005 else float('inf')
    assert low <= ratio <= high, (cached, plain, ratio)


def test_a_config_without_a_cached_dataset_is_named(tmp_path, capsys):
    config = write_config(tmp_path, cached=False)
    with pytest.raises(SystemExit) as exit_info:
        benchmark_data.main(['--cached', config])
    assert exit_info.value.code == 2
    assert f"{config}: train_dataloader.dataset.type is 'SegFolderDataset'" in capsys.readouterr().err


def test_another_pipeline_is_labelled_and_gets_no_verdict(monkeypatch, capsys):
    """--pipeline-config's row kept the digits label, and its verdict compared that pipeline with the digits
    model's step."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(benchmark_data, 'train_throughput', lambda *args, **kwargs: 50.0)  # the steps: not timed here
    config = 'configs/classification/resnet18_digits.py'
    assert benchmark_data.main(['--pipeline-config', config, '--samples', '2', '--steps', '1', '--batch', '1']) == 0
    out = capsys.readouterr().out
    assert 'resnet18_digits pipeline; step: digits resnet18' in out and 'digits 1x32x32' not in out
    assert 'resnet18_digits pipeline: no verdict' in out and out.count('bottleneck') == 1  # the imagenet row's
