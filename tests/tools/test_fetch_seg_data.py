"""tools/data/fetch_data.py nuclei / mni entries, on fake wheels with the real member names."""
from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'fetch_data.py'


@pytest.fixture(scope='module')
def fetch():
    spec = importlib.util.spec_from_file_location('fetch_data_seg', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiff(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='TIFF')
    return buffer.getvalue()


@pytest.fixture
def wheels(fetch, monkeypatch, tmp_path):
    image = (np.arange(512 * 512).reshape(512, 512) % 251).astype(np.uint16)
    mask = np.zeros((512, 512), np.uint16)
    mask[10:20, 380:390] = 42  # an instance crossing the split column 384
    paths = {'stardist==0.9.2': tmp_path / 'stardist-0.9.2-cp311-cp311-linux_x86_64.whl',
             'nilearn==0.14.*': tmp_path / 'nilearn-0.14.1-py3-none-any.whl'}
    with zipfile.ZipFile(paths['stardist==0.9.2'], 'w') as z:
        z.writestr('stardist/data/images/img2d.tif', tiff(image))
        z.writestr('stardist/data/images/mask2d.tif', tiff(mask))
    with zipfile.ZipFile(paths['nilearn==0.14.*'], 'w') as z:
        for member in fetch.MNI_MEMBERS.values():
            z.writestr(member, member.encode())  # content is copied unchanged
    calls = []
    monkeypatch.setattr(fetch, 'pip_download', lambda req, cache: calls.append(req) or paths[req])
    return image, mask, calls


def test_nuclei_split_by_columns(fetch, wheels, tmp_path):
    image, mask, calls = wheels
    root = tmp_path / 'data'
    assert fetch.FETCHERS['nuclei'](root, tmp_path / 'cache', 0.2, 0, False).startswith('wrote 4 files')
    for split, cols in (('train', slice(0, 384)), ('val', slice(384, 512))):
        img = np.asarray(Image.open(root / 'nuclei' / split / 'images' / 'nuclei.tif'))
        msk = np.asarray(Image.open(root / 'nuclei' / split / 'masks' / 'nuclei.tif'))
        assert img.dtype == np.uint16
        np.testing.assert_array_equal(img, image[:, cols])
        np.testing.assert_array_equal(msk, mask[:, cols])
    assert 'BSD-3-Clause' in (root / 'nuclei' / 'SOURCES.md').read_text()
    assert 'already there' in fetch.fetch_nuclei(root, tmp_path / 'cache', 0.2, 0, False)
    assert calls == ['stardist==0.9.2']  # the second run downloads nothing
    assert sorted(p.name for p in root.iterdir()) == ['nuclei']  # no temporary folder left


def test_mni_files_are_copied_unchanged(fetch, wheels, tmp_path):
    root = tmp_path / 'data'
    fetch.fetch_mni(root, tmp_path / 'cache', 0.2, 0, False)
    for name, member in fetch.MNI_MEMBERS.items():
        assert (root / 'mni' / f'{name}.nii.gz').read_bytes() == member.encode()


def test_folder_not_written_by_the_script_is_refused(fetch, wheels, tmp_path):
    (tmp_path / 'data' / 'mni').mkdir(parents=True)
    with pytest.raises(ValueError, match='has no manifest.json'):
        fetch.fetch_mni(tmp_path / 'data', tmp_path / 'cache', 0.2, 0, False)
