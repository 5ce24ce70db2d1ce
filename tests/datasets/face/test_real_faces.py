"""Round trips on real face pixels (scikit-image's lfw_subset: python tools/data/fetch_data.py lfw_subset):
identity folders -> make_rec.py -> FaceRecDataset and -> make_bin.py -> FaceVerificationDataset give the faces back."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets.face import FaceRecDataset, FaceVerificationDataset

REPO = Path(__file__).resolve().parents[3]
FACES = REPO / 'data' / 'lfw_subset' / 'faces'


@pytest.fixture(scope='module')
def identities(tmp_path_factory):
    if not FACES.is_dir():
        pytest.skip('data/lfw_subset is missing: run python tools/data/fetch_data.py lfw_subset (make data)')
    root = tmp_path_factory.mktemp('lfw') / 'ids'
    faces = sorted(FACES.glob('*.png'))[:40]
    for i, face in enumerate(faces):  # 8 stand-in identities of 5 real faces each
        (root / f'id{i // 5}').mkdir(parents=True, exist_ok=True)
        shutil.copy(face, root / f'id{i // 5}' / face.name)
    return root


def _run(*args):
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert('L'), dtype=np.float64)


@pytest.mark.parametrize('keep', [True, False])
def test_rec_round_trip(identities, tmp_path, keep):
    _run(REPO / 'tools/face/make_rec.py', identities, tmp_path, *(['--keep-bytes'] if keep else []))
    pipeline = [dict(type='LoadImageFromBytes', color_type='grayscale'), dict(type='PackInputs')]
    dataset = FaceRecDataset(str(tmp_path), num_classes=8, pipeline=pipeline)
    originals = sorted(identities.glob('*/*.png'))
    assert len(dataset) == len(originals) == 40
    for i in (0, 17, 39):
        sample = dataset[i]
        got, want = sample['inputs'][0].numpy().astype(np.float64), _pixels(originals[i])
        assert sample['data_samples']['gt_label'] == int(originals[i].parent.name[2:])
        if keep:
            assert np.array_equal(got, want)
        else:  # JPEG at quality 95
            assert np.abs(got - want).mean() < 3.0


def test_bin_round_trip(identities, tmp_path):
    _run(REPO / 'tools/face/make_bin.py', identities, '--out', tmp_path / 'pairs.bin', '--pairs', '20')
    dataset = FaceVerificationDataset(bin_file=str(tmp_path / 'pairs.bin'), pipeline=[
        dict(type='LoadImageFromBytes', color_type='grayscale'),
        dict(type='PackInputs', meta_keys=('pair_index', 'pair_side', 'is_same'))])
    assert len(dataset) == 80 and sum(dataset.issame) == 20
    originals = {_pixels(p).tobytes(): p.parent.name for p in identities.glob('*/*.png')}
    for k in range(0, 40, 7):
        a, b = dataset[2 * k], dataset[2 * k + 1]
        who = [originals[s['inputs'][0].numpy().astype(np.float64).tobytes()] for s in (a, b)]
        assert (who[0] == who[1]) == a['data_samples']['is_same'] == b['data_samples']['is_same']
