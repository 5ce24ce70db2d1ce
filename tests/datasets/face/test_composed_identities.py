"""Composed identities: every sample's label matches the halves its pixels came from; bad setups are named."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.datasets.face import FaceFolderDataset, HalfComposedFaceDataset

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
    (dict(kinds=('diagonal',)), r"kinds must be distinct values from \['top_bottom', .*'anti_diagonal'\]; got \['diagonal'\]"),
    (dict(kinds=('top_bottom', 'top_bottom')), r'kinds must be distinct'),
    (dict(kinds=()), r'kinds must be distinct'),
    (dict(times=0), r'times must be an integer >= 1; got 0'),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _composed(_identities(tmp_path), **kwargs)


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
