"""tools/data/fetch_data.py: the digits entry writes a stratified ImageFolder atomically and only once."""
from __future__ import annotations

import gzip
import importlib.util
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'tools' / 'data' / 'fetch_data.py'


@pytest.fixture(scope='module')
def fetch():
    spec = importlib.util.spec_from_file_location('fetch_data', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_wheel(path: Path, per_class: int = 5, classes: int = 3, csv_text: str | None = None) -> Path:
    """A zip with scikit-learn's member names; row r has pixels (r % 17) and label r % classes."""
    rows = [[r % 17] * 64 + [r % classes] for r in range(per_class * classes)]
    text = csv_text if csv_text is not None else '\n'.join(','.join(map(str, row)) for row in rows) + '\n'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('sklearn/datasets/data/digits.csv.gz', gzip.compress(text.encode()))
        z.writestr('sklearn/datasets/descr/digits.rst', 'Optical recognition of handwritten digits dataset\n')
    return path


@pytest.fixture
def offline(fetch, monkeypatch, tmp_path):
    """Replace pip with a fake wheel; returns the list of pip calls."""
    calls = []

    def pip_download(requirement, cache):
        calls.append(requirement)
        return fake_wheel(tmp_path / 'scikit_learn-1.9.9-py3-none-any.whl')
    monkeypatch.setattr(fetch, 'pip_download', pip_download)
    return calls


def pngs(root: Path) -> list[Path]:
    return sorted(root.rglob('*.png'))


@pytest.mark.parametrize('val_fraction, val_per_class', [(0.2, 1), (0.4, 2)])
def test_writes_stratified_image_folder(fetch, offline, tmp_path, val_fraction, val_per_class):
    root = tmp_path / 'data'
    message = fetch.fetch_digits(root, tmp_path / 'cache', val_fraction, 0, False)
    target = root / 'digits'
    assert message.startswith(f'wrote 15 images to {target}')
    for label in range(3):
        assert len(pngs(target / 'val' / str(label))) == val_per_class
        assert len(pngs(target / 'train' / str(label))) == 5 - val_per_class
    row8 = next(target.glob('*/2/0008.png'))  # row 8 of the csv: pixels 8 (of 16), label 8 % 3
    img = np.asarray(Image.open(row8))
    assert img.shape == (8, 8) and (img == 128).all()
    lines = (target / 'meta' / 'val.txt').read_text().splitlines()
    assert len(lines) == 3 * val_per_class
    assert all(line.split()[0].split('/')[1] == line.split()[1] for line in lines)  # folder = label
    assert 'BSD-3-Clause' in (target / 'SOURCES.md').read_text()
    assert (target / 'DESCR.rst').is_file()
    assert [p.name for p in root.iterdir()] == ['digits']  # no temp folders left
    # a new folder's permissions (umask), not mkdtemp's owner-only ones: other users could not read the data
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~mask


def test_pixels_are_rescaled_to_0_255(fetch, tmp_path):
    row = lambda v, label: ','.join([str(v)] * 64 + [str(label)])  # noqa: E731
    raw = gzip.compress(f'{row(0, 0)}\n{row(8, 1)}\n{row(16, 2)}\n'.encode())
    images, labels = fetch.parse_digits_csv(raw, 'test.csv.gz')
    assert images[:, 0, 0].tolist() == [0, 128, 255] and labels.tolist() == [0, 1, 2]
    assert images.dtype == np.uint8 and images.shape == (3, 8, 8)


def test_split_is_deterministic_and_seeded(fetch):
    labels = np.repeat(np.arange(4), 10)
    first = fetch.stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(first, fetch.stratified_split(labels, 0.2, seed=0))
    assert not np.array_equal(first, fetch.stratified_split(labels, 0.2, seed=1))
    assert np.bincount(labels[first]).tolist() == [2, 2, 2, 2]


def test_second_run_is_a_noop_and_settings_are_checked(fetch, offline, tmp_path):
    root = tmp_path / 'data'
    fetch.fetch_digits(root, tmp_path / 'cache', 0.2, 0, False)
    stamp = (root / 'digits' / 'manifest.json').stat().st_mtime_ns
    assert 'nothing to do' in fetch.fetch_digits(root, tmp_path / 'cache', 0.2, 0, False)
    assert len(offline) == 1 and (root / 'digits' / 'manifest.json').stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match=r"built with other settings \{'seed': \(0, 1\)\}"):
        fetch.fetch_digits(root, tmp_path / 'cache', 0.2, 1, False)
    assert fetch.fetch_digits(root, tmp_path / 'cache', 0.2, 1, True).startswith('wrote 15 images')
    assert len(offline) == 2 and '"seed": 1' in (root / 'digits' / 'manifest.json').read_text()


def test_failure_midway_leaves_nothing(fetch, offline, tmp_path, monkeypatch):
    saved = []

    def failing_save(self, path, *args, **kwargs):
        if len(saved) == 3:
            raise OSError('disk full')
        saved.append(path)
    monkeypatch.setattr(Image.Image, 'save', failing_save)
    root = tmp_path / 'data'
    with pytest.raises(OSError, match='disk full'):
        fetch.fetch_digits(root, tmp_path / 'cache', 0.2, 0, False)
    assert list(root.iterdir()) == []


def test_foreign_folder_is_not_overwritten(fetch, offline, tmp_path):
    (tmp_path / 'data' / 'digits').mkdir(parents=True)
    with pytest.raises(ValueError, match='has no manifest.json'):
        fetch.fetch_digits(tmp_path / 'data', tmp_path / 'cache', 0.2, 0, False)
    assert offline == []


@pytest.mark.parametrize('csv_text, message', [('1,2,3\n', 'expected rows of 64 pixels'),
                                               (','.join(['99'] * 65) + '\n', 'expected rows of 64 pixels'),
                                               ('a,b\n', 'not the expected gzipped csv')])
def test_bad_member_is_reported(fetch, tmp_path, csv_text, message):
    wheel = fake_wheel(tmp_path / 'w.whl', csv_text=csv_text)
    raw = fetch.read_member(wheel, fetch.DIGITS_MEMBER)
    with pytest.raises(fetch.FetchError, match=message):
        fetch.parse_digits_csv(raw, 'w.whl')
    with pytest.raises(fetch.FetchError, match='has no member nope'):
        fetch.read_member(wheel, 'nope')


@pytest.mark.parametrize('argv, message', [(['mnist'], "invalid choice: 'mnist'"),
                                           (['digits', '--val-fraction', '1.5'], '--val-fraction must be between')])
def test_cli_rejects_bad_arguments(fetch, offline, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        fetch.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert offline == []  # nothing was downloaded


@pytest.mark.slow
def test_real_fetch_from_pypi(tmp_path):
    """The real scikit-learn wheel via pip: 1,797 images, 10 classes, stratified 80/20; then a no-op."""
    cmd = [sys.executable, str(SCRIPT), 'digits', '--root', str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert first.returncode == 0, first.stderr
    target = tmp_path / 'digits'
    counts = {split: {d.name: len(list(d.glob('*.png'))) for d in (target / split).iterdir()}
              for split in ('train', 'val')}
    assert sorted(counts['train']) == sorted(counts['val']) == [str(d) for d in range(10)]
    assert sum(counts['train'].values()) + sum(counts['val'].values()) == 1797
    assert sum(counts['val'].values()) == 359
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert second.returncode == 0 and 'nothing to do' in second.stdout


@pytest.mark.parametrize('text, message', [('[]', 'holds a list, not the settings'), ('{', 'is not readable json')])
def test_an_unreadable_manifest_is_named(fetch, tmp_path, text, message):
    (tmp_path / 'manifest.json').write_text(text)  # was a traceback (AttributeError / JSONDecodeError)
    with pytest.raises(ValueError, match=message):
        fetch.is_complete(tmp_path, dict(seed=0))


def test_a_fraction_with_no_validation_image_and_a_negative_seed_are_named(fetch, capsys):
    labels = np.repeat(np.arange(3), 10)
    with pytest.raises(ValueError, match=r'--val-fraction 0.01 rounds to no validation image'):  # an empty list
        fetch.stratified_split(labels, 0.01, seed=0)
    with pytest.raises(SystemExit):  # numpy's 'expected non-negative integer', after the download
        fetch.main(['digits', '--seed', '-1'])
    assert '--seed must be >= 0; got -1' in capsys.readouterr().err
