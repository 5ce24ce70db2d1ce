"""ImageFolderDataset: labels follow the class folders; bad layouts fail with a message naming the problem."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from resbackbones.datasets import ImageFolderDataset
from resbackbones.registry import DATASETS
from resbackbones.transforms import CorruptImageError

PIPELINE = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]


@pytest.mark.parametrize('classes', [None, ['dog', 'ant', 'cat']])
def test_labels_match_folders_and_pixels(image_tree, classes):
    root = image_tree({'cat': 2, 'dog': 1, 'ant': 3})
    ds = DATASETS.build(dict(type='ImageFolderDataset', data_root=str(root), pipeline=PIPELINE, classes=classes))
    expected = tuple(classes or ['ant', 'cat', 'dog'])
    assert ds.metainfo['classes'] == expected
    assert len(ds) == 6
    sorted_names = sorted(expected)
    for i in range(len(ds)):
        sample = ds[i]
        path = Path(sample['data_samples']['img_path'])
        assert expected[sample['data_samples']['gt_label']] == path.parent.name
        assert sample['inputs'].shape == (1, 4, 4) and sample['inputs'].dtype == torch.uint8
        # pixel value written by the fixture: 10 * sorted class index + file index
        assert int(sample['inputs'][0, 0, 0]) == 10 * sorted_names.index(path.parent.name) + int(path.stem)
        assert ds.get_cat_ids(i) == [sample['data_samples']['gt_label']]


def test_extensions_filter_case_and_hidden(image_tree, write_png):
    root = image_tree({'a': 1, 'b': 1})
    write_png(root / 'a' / 'UPPER.PNG')
    write_png(root / 'a' / '.hidden.png')
    (root / 'a' / 'notes.txt').write_text('not an image')
    (root / '.cache').mkdir()
    ds = ImageFolderDataset(str(root), PIPELINE)
    names = sorted(Path(ds.get_data_info(i)['img_path']).name for i in range(len(ds)))
    assert names == ['0.png', '0.png', 'UPPER.PNG']
    assert ds.metainfo['classes'] == ('a', 'b')
    only_jpg = image_tree({'c': 1}, root=root.parent / 'other')
    with pytest.raises(ValueError, match=r"no images with extensions \['.jpg'\]"):
        ImageFolderDataset(str(only_jpg), PIPELINE, extensions=['jpg'])


def test_a_dangling_link_is_listed_so_loading_names_it(image_tree):
    """is_file() is False for a link to a missing file: it was left out without a word, though missing files are
    never skipped (docs/data.md)."""
    root = image_tree({'a': 1, 'b': 1})
    (root / 'b' / 'gone.png').symlink_to(root / 'nowhere.png')
    ds = ImageFolderDataset(str(root), PIPELINE, skip_corrupt=True)
    assert len(ds) == 3
    with pytest.raises(FileNotFoundError, match='gone.png'):
        ds[2]


@pytest.mark.parametrize('given', ['classes', 'metainfo'])
def test_a_split_without_a_class_keeps_the_training_labels(image_tree, given):
    """A val split lacking class 'b': its sorted folders gave 'c' label 1, not 2, silently; listing the training
    classes (either form; mmpretrain's metainfo one was ignored) keeps every label and warns about 'b'."""
    root = image_tree({'a': 1, 'c': 2})
    classes = ('a', 'b', 'c')
    kwargs = dict(classes=classes) if given == 'classes' else dict(metainfo=dict(classes=classes))
    ds = ImageFolderDataset(str(root), PIPELINE, **kwargs)
    assert ds.metainfo['classes'] == classes
    labels = {Path(ds.get_data_info(i)['img_path']).parent.name: ds.get_data_info(i)['gt_label'] for i in range(3)}
    assert labels == {'a': 0, 'c': 2}


def test_webp_and_netpbm_images_are_found(image_tree):
    from PIL import Image
    root = image_tree({'a': 1})
    for suffix in ('webp', 'ppm', 'pgm'):  # torchvision's extensions, dropped without a word before
        Image.new('L' if suffix == 'pgm' else 'RGB', (4, 4)).save(root / 'a' / f'x.{suffix}')
    ds = ImageFolderDataset(str(root), PIPELINE)
    assert sorted(Path(ds.get_data_info(i)['img_path']).suffix for i in range(len(ds))) == ['.pgm', '.png', '.ppm',
                                                                                           '.webp']


@pytest.mark.parametrize('layout, kwargs, error, message', [
    (None, {}, FileNotFoundError, 'does not exist'),
    ({}, {}, ValueError, 'has no class folders'),
    ({'a': 1, 'b': 0}, {}, ValueError, r'class folder .*b has no images'),
    ({'a': 1, 'b': 1}, dict(classes=['a']), ValueError, r"folder\(s\) \['b'\] .* are not in classes"),
    ({'a': 1}, dict(classes=['y', 'z']), ValueError, r"none of classes \['y', 'z'\] has a folder"),
    ({'a': 1}, dict(classes=['a'], metainfo=dict(classes=['b'])), ValueError, r"classes \['a'\] and metainfo "
                                                                              r"classes \['b'\] differ"),
    ({'a': 1}, dict(classes=['a', 'a']), ValueError, 'more than once'),
    ({'a': 1}, dict(classes=[0]), ValueError, 'non-empty strings'),
    ({'a': 1}, dict(extensions='.png'), ValueError, 'extensions must be'),
])
def test_bad_layouts(tmp_path, image_tree, layout, kwargs, error, message):
    root = tmp_path / 'root' if layout is None else image_tree(layout)
    with pytest.raises(error, match=message):
        ImageFolderDataset(str(root), PIPELINE, **kwargs)


def test_data_root_one_level_too_high_is_caught(tmp_path, image_tree):
    image_tree({'0': 1, '1': 1}, root=tmp_path / 'digits' / 'train')
    image_tree({'0': 1, '1': 1}, root=tmp_path / 'digits' / 'val')
    with pytest.raises(ValueError, match='one level too high'):
        ImageFolderDataset(str(tmp_path / 'digits'), PIPELINE)


def test_data_root_is_a_file(tmp_path):
    (tmp_path / 'f.png').write_bytes(b'x')
    with pytest.raises(ValueError, match='is a file'):
        ImageFolderDataset(str(tmp_path / 'f.png'), PIPELINE)


@pytest.mark.parametrize('kind', ['text', 'truncated'])
def test_corrupt_file_raises_naming_it(image_tree, corrupt_bytes, kind):
    root = image_tree({'a': 2})
    (root / 'a' / '1.png').write_bytes(corrupt_bytes[kind])
    ds = ImageFolderDataset(str(root), PIPELINE)
    assert ds[0]['data_samples']['img_path'].endswith('0.png')
    with pytest.raises(CorruptImageError, match=r'cannot read image .*a/1\.png'):
        ds[1]


@pytest.mark.parametrize('kind', ['text', 'truncated'])
def test_skip_corrupt_counts_and_keeps_labels_right(image_tree, corrupt_bytes, kind):
    root = image_tree({'a': 2, 'b': 2})
    bad = root / 'a' / '1.png'
    bad.write_bytes(corrupt_bytes[kind])
    ds = ImageFolderDataset(str(root), PIPELINE, skip_corrupt=True)
    samples = [ds[i] for i in range(len(ds))] + [ds[1]]  # index 1 twice: still one skipped file
    assert ds.skipped_files == [str(bad)]
    replacement = samples[1]['data_samples']
    assert replacement['img_path'] == str(root / 'b' / '0.png')  # the next index, with its own label
    assert replacement['gt_label'] == ds.metainfo['classes'].index('b')


def test_skip_corrupt_with_every_file_corrupt(image_tree):
    root = image_tree({'a': 2})
    for p in (root / 'a').iterdir():
        p.write_bytes(b'junk')
    ds = ImageFolderDataset(str(root), PIPELINE, skip_corrupt=True)
    with pytest.raises(ValueError, match='every one of the 2 images'):
        ds[0]
    assert len(ds.skipped_files) == 2


@pytest.mark.parametrize('skip_corrupt', [False, True])
def test_index_out_of_range_raises(image_tree, skip_corrupt):
    ds = ImageFolderDataset(str(image_tree({'a': 2})), PIPELINE, skip_corrupt=skip_corrupt)
    with pytest.raises(IndexError, match='index 2 is out of range for 2 samples'):
        ds[2]
    assert ds[-1]['data_samples']['img_path'].endswith('1.png')
    assert len(list(ds)) == 2  # iteration stops at the end instead of wrapping around


def test_lazy_init_knows_classes_before_scanning(image_tree):
    root = image_tree({'x': 1, 'y': 2})
    ds = ImageFolderDataset(str(root), PIPELINE, lazy_init=True)
    assert ds.metainfo['classes'] == ('x', 'y') and not ds._fully_initialized
    assert len(ds) == 3


def test_images_in_sub_folders_of_a_class_are_named(image_tree, write_png):
    """cat/1.png beside 50 images in cat/batch2/: the 50 were left out without a word (torchvision reads them)."""
    import logging

    from mmengine.logging import MMLogger
    root = image_tree({'cat': 1, 'dog': 2})
    for i in range(3):
        write_png(root / 'cat' / 'batch2' / f'{i}.png')
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        ds = ImageFolderDataset(str(root), PIPELINE)
    finally:
        logger.removeHandler(handler)
    assert len(ds) == 3  # as documented: images directly in their class folder
    warned = [r.getMessage() for r in records]
    assert len(warned) == 1 and '3 images in sub-folders of class folder' in warned[0] and 'batch2' in warned[0]
