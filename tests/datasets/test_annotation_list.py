"""AnnotationListDataset: mmpretrain's 'path LABEL' lists; a bad line names the file and line number."""
from __future__ import annotations

from pathlib import Path

import pytest

from resbackbones.datasets import AnnotationListDataset
from resbackbones.registry import DATASETS
from resbackbones.transforms import CorruptImageError

PIPELINE = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]


@pytest.fixture
def images(tmp_path, write_png):
    """prefix/ holding a.png (value 1), sub dir/b c.png (value 2, a space in the name), d.png (value 3)."""
    prefix = tmp_path / 'imgs'
    for rel, value in [('a.png', 1), ('sub dir/b c.png', 2), ('d.png', 3)]:
        write_png(prefix / rel, value)
    return prefix


def write_list(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'list.txt'
    path.write_text(text)
    return path


@pytest.mark.parametrize('classes, expected_classes', [(None, ('0', '1', '2', '3')),
                                                        (['w', 'x', 'y', 'z'], ('w', 'x', 'y', 'z'))])
def test_reads_paths_with_spaces_and_labels(tmp_path, images, classes, expected_classes):
    ann = write_list(tmp_path, 'a.png 3\n\nsub dir/b c.png 0\n  d.png 1  \n')
    ds = DATASETS.build(dict(type='AnnotationListDataset', ann_file=str(ann), data_prefix=str(images),
                             pipeline=PIPELINE, classes=classes))
    assert ds.metainfo['classes'] == expected_classes
    got = [(Path(ds[i]['data_samples']['img_path']).name, ds[i]['data_samples']['gt_label'],
            int(ds[i]['inputs'][0, 0, 0])) for i in range(len(ds))]
    assert got == [('a.png', 3, 1), ('b c.png', 0, 2), ('d.png', 1, 3)]


def test_metainfo_classes_are_the_classes(tmp_path, images):
    """mmpretrain's form: the names were replaced by '0'..'3' and labels left unchecked against them."""
    ann = write_list(tmp_path, 'a.png 3\n')
    ds = DATASETS.build(dict(type='AnnotationListDataset', ann_file=str(ann), data_prefix=str(images),
                             metainfo=dict(classes=('w', 'x', 'y', 'z'))))
    assert ds.metainfo['classes'] == ('w', 'x', 'y', 'z')
    with pytest.raises(ValueError, match=r'label 3 .*0..2 \(classes has 3 names\)'):
        DATASETS.build(dict(type='AnnotationListDataset', ann_file=str(ann), data_prefix=str(images),
                            metainfo=dict(classes=('x', 'y', 'z'))))


def test_relative_to_data_root(tmp_path, images):
    write_list(tmp_path, 'a.png 0\n')
    ds = AnnotationListDataset('list.txt', data_prefix=dict(img_path='imgs'), data_root=str(tmp_path),
                               pipeline=PIPELINE)
    assert ds[0]['data_samples']['img_path'] == str(tmp_path / 'imgs' / 'a.png')


@pytest.mark.parametrize('text, classes, message', [
    ('a.png 0\nlonely.png\n', None, r"list\.txt, line 2: expected 'relative/path\.png LABEL'"),
    ('a.png zero\n', None, r'line 1: label must be an integer'),
    ('a.png 0\n\na.png -1\n', None, r'line 3: label -1 is out of range'),
    ('a.png 2\n', ['x', 'y'], r'line 1: label 2 is out of range; expected 0\.\.1 \(classes has 2 names\)'),
    ('\n\n', None, 'lists no images'),
])
def test_bad_lines_name_file_and_line(tmp_path, images, text, classes, message):
    ann = write_list(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        AnnotationListDataset(str(ann), str(images), PIPELINE, classes=classes)


@pytest.mark.parametrize('what', ['ann_file', 'data_prefix'])
def test_missing_inputs(tmp_path, images, what):
    ann = write_list(tmp_path, 'a.png 0\n')
    kwargs = dict(ann_file=str(ann), data_prefix=str(images))
    kwargs[what] = str(tmp_path / 'missing')
    with pytest.raises(FileNotFoundError, match=f'{what} .*missing'):
        AnnotationListDataset(pipeline=PIPELINE, **kwargs)


def test_missing_image_named_on_load(tmp_path, images):
    ann = write_list(tmp_path, 'gone.png 0\n')
    ds = AnnotationListDataset(str(ann), str(images), PIPELINE)
    with pytest.raises(FileNotFoundError, match=r'image file not found: .*gone\.png'):
        ds[0]


@pytest.mark.parametrize('skip', [False, True])
def test_corrupt_listed_file(tmp_path, images, skip):
    (images / 'a.png').write_bytes(b'garbage')
    ann = write_list(tmp_path, 'a.png 0\nd.png 1\n')
    ds = AnnotationListDataset(str(ann), str(images), PIPELINE, skip_corrupt=skip)
    if not skip:
        with pytest.raises(CorruptImageError, match=r'a\.png'):
            ds[0]
        return
    assert ds[0]['data_samples'] == dict(gt_label=1, img_path=str(images / 'd.png'))
    assert ds.skipped_files == [str(images / 'a.png')]


def test_a_list_saved_with_a_bom_reads_its_first_path(tmp_path, images):
    """Windows editors write a UTF-8 BOM: it became part of the first path, and that sample failed mid-training
    with a 'file not found' whose path looked right."""
    ann = tmp_path / 'bom.txt'
    ann.write_text('a.png 3\nd.png 1\n', encoding='utf-8-sig')
    ds = DATASETS.build(dict(type='AnnotationListDataset', ann_file=str(ann), data_prefix=str(images),
                             pipeline=PIPELINE))
    assert ds[0]['data_samples']['img_path'] == str(images / 'a.png')
    assert ds.metainfo['classes_from_labels']  # '0'..'3' stand for label numbers, not names
