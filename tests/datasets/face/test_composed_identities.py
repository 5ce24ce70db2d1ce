"""Composed identities: every sample's label matches the halves its pixels came from; bad setups are named."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.datasets.face import FaceFolderDataset, FaceRecDataset, HalfComposedFaceDataset
from resbackbones.datasets.face.composed_identities import pasted_region

ROOT = Path(__file__).resolve().parents[3]

LOAD = [dict(type='LoadImageFromFile', color_type='grayscale')]


def _identities(root: Path, names=('ann', 'bob', 'cid'), size=(4, 6)) -> Path:
    """Each identity's images are filled with its own grey level (40, 80, 120, ...), two images each."""
    for level, name in enumerate(names, start=1):
        (root / name).mkdir(parents=True)
        for k in range(2):
            Image.fromarray(np.full(size, 40 * level, np.uint8)).save(root / name / f'{k}.png')
    return root


def _composed(root: Path, **kwargs) -> HalfComposedFaceDataset:
    return HalfComposedFaceDataset(dict(type='FaceFolderDataset', data_root=str(root), pipeline=LOAD), **kwargs)


NAMES = ('ann', 'bob', 'cid')
# Where the second identity's pixels must be in a 4x4 image, written out per kind.
ROWS, COLS = np.mgrid[:4, :4]
SECOND = {'top_bottom': ROWS >= 2, 'left_right': COLS >= 2, 'main_diagonal': ROWS > COLS,
          'anti_diagonal': ROWS + COLS >= 4}


def test_labels_name_the_halves_the_pixels_came_from(tmp_path):
    dataset = _composed(_identities(tmp_path, size=(4, 4)), times=100)
    names = dataset.metainfo['classes']
    assert dataset.num_classes == len(names) == 3 + 4 * 3 * 2
    assert names[:3] == NAMES
    torch.manual_seed(0)
    seen = set()
    for sample in (dataset[i] for i in range(500)):
        img = sample['img'][..., 0]
        kind = sample['composition']
        first, rest = img[~SECOND[kind]], img[SECOND[kind]]
        assert len(np.unique(first)) == len(np.unique(rest)) == 1
        a, b = NAMES[first[0] // 40 - 1], NAMES[rest[0] // 40 - 1]
        assert names[sample['gt_label']] == (a if a == b else f'{kind}:{a}+{b}')
        seen.add(sample['gt_label'])
    assert seen == set(range(dataset.num_classes))  # 500 draws reach every one of the 27 labels


def test_halves_of_an_image_that_is_not_square(tmp_path):
    dataset = _composed(_identities(tmp_path, size=(4, 6)), kinds=('left_right', 'top_bottom'), times=20)
    torch.manual_seed(0)
    for sample in (dataset[i] for i in range(40)):
        img = sample['img'][..., 0]
        halves = (img[:, :3], img[:, 3:]) if sample['composition'] == 'left_right' else (img[:2], img[2:])
        assert [len(np.unique(h)) for h in halves] == [1, 1]


def test_one_kind_and_length(tmp_path):
    dataset = _composed(_identities(tmp_path), kinds='left_right', times=3)
    assert len(dataset) == 3 * 6
    assert dataset.num_classes == 3 + 3 * 2
    assert dataset.metainfo['classes'][3:] == ('left_right:ann+bob', 'left_right:ann+cid', 'left_right:bob+ann',
                                               'left_right:bob+cid', 'left_right:cid+ann', 'left_right:cid+bob')
    assert dataset.label_of('left_right', 2, 0) == 3 + 4


def test_draws_follow_the_seed_and_change_between_passes(tmp_path):
    dataset = _composed(_identities(tmp_path))

    def labels():
        return [dataset[i]['gt_label'] for i in range(len(dataset))]

    torch.manual_seed(3)
    first, second = labels(), labels()
    torch.manual_seed(3)
    assert labels() == first
    assert second != first


@pytest.mark.parametrize('cache', [True, False])
def test_cache_keeps_loaded_images(tmp_path, cache):
    root = _identities(tmp_path)
    dataset = _composed(root, cache=cache, times=40)
    torch.manual_seed(0)
    for i in range(100):
        dataset[i]
    for image in root.glob('*/*.png'):
        image.unlink()
    if cache:
        assert len(dataset.cache) == 6
        assert all(dataset[i]['gt_label'] < dataset.num_classes for i in range(20))
    else:
        with pytest.raises(FileNotFoundError, match=r'image file not found: .*\.png'):
            dataset[0]


def test_pipeline_runs_on_the_composed_image(tmp_path):
    dataset = _composed(_identities(tmp_path), pipeline=[dict(type='Resize', size=(8, 12)), dict(type='PackInputs')])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 8, 12)
    assert 0 <= sample['data_samples']['gt_label'] < dataset.num_classes


@pytest.mark.parametrize('kwargs, message', [
    (dict(kinds=('diagonal',)),
     r"kinds must be distinct values from \['top_bottom', .*'anti_diagonal'\]; got \['diagonal'\]"),
    (dict(kinds=('top_bottom', 'top_bottom')), r'kinds must be distinct'),
    (dict(kinds=()), r'kinds must be distinct'),
    (dict(times=0), r'times must be an integer >= 1; got 0'),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _composed(_identities(tmp_path), **kwargs)


def test_insightface_rec_set_is_composed_from_its_records(tmp_path):
    """A .rec set (numbered identities, image bytes) written by make_rec.py: each composed sample's two regions are
    an image of each identity its label names."""
    rng = np.random.default_rng(0)
    images = {}
    for who in range(3):
        (tmp_path / 'faces' / f'id{who}').mkdir(parents=True)
        images[str(who)] = [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(2)]
        for k, image in enumerate(images[str(who)]):
            Image.fromarray(image).save(tmp_path / 'faces' / f'id{who}' / f'{k}.png')
    done = subprocess.run([sys.executable, str(ROOT / 'tools/face/make_rec.py'), str(tmp_path / 'faces'),
                           str(tmp_path / 'rec'), '--keep-bytes'], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rec = FaceRecDataset(str(tmp_path / 'rec'), pipeline=[dict(type='LoadImageFromBytes')])
    dataset = HalfComposedFaceDataset(rec, kinds=('anti_diagonal', 'left_right'), times=10)
    names = dataset.metainfo['classes']
    assert dataset.num_classes == 3 + 2 * 3 * 2 and names[:3] == ('0', '1', '2')
    torch.manual_seed(1)
    for sample in (dataset[i] for i in range(30)):
        name = names[sample['gt_label']]
        kind = sample['composition']
        first, second = (name, name) if ':' not in name else name.split(':')[1].split('+')
        assert ':' not in name or name.startswith(kind)
        pasted = pasted_region(kind, 8, 8)
        assert any(np.array_equal(sample['img'][~pasted], im[~pasted]) for im in images[first])
        assert any(np.array_equal(sample['img'][pasted], im[pasted]) for im in images[second])
        assert 'train.rec, record' in sample['composed_from'][0]


def test_too_many_identities_are_refused(tmp_path):
    class Numbered(torch.utils.data.Dataset):
        num_classes = 600

        def __len__(self):
            return 600

        def get_data_info(self, idx):
            return dict(gt_label=idx)

    with pytest.raises(ValueError, match=r'600 identities would make 1,437,600 composed classes'):
        HalfComposedFaceDataset(Numbered())


def test_one_identity_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r'has 1 identity; composing needs at least 2'):
        _composed(_identities(tmp_path, names=('ann',)))


def test_wrapped_pipeline_that_packs_is_named(tmp_path):
    dataset = HalfComposedFaceDataset(FaceFolderDataset(str(_identities(tmp_path)),
                                                        pipeline=LOAD + [dict(type='PackInputs')]))
    with pytest.raises(ValueError, match=r"samples must hold the loaded image as 'img'.*only loads"):
        dataset[0]


def test_images_of_different_shapes_name_the_files(tmp_path):
    root = _identities(tmp_path, names=('ann', 'bob'))
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(root / 'bob' / '0.png')
    Image.fromarray(np.zeros((5, 6), np.uint8)).save(root / 'bob' / '1.png')
    dataset = _composed(root, kinds='top_bottom', times=10)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r'cannot join .*(ann|bob)/\d.png \(\d, 6, 1\) and .*/\d.png .*one shape'):
        for i in range(len(dataset)):
            dataset[i]
