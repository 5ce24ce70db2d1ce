"""Identity folders (a chosen subset, an empty identity named) and LFW pairs.txt (a missing image named by line)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets.face import FaceFolderDataset, FaceVerificationDataset, read_pairs


def _folder(root: Path, layout: dict[str, int], name_of=lambda who, k: f'{k}.png') -> Path:
    for who, count in layout.items():
        (root / who).mkdir(parents=True, exist_ok=True)
        for k in range(1, count + 1):
            Image.fromarray(np.full((4, 4, 3), k, np.uint8)).save(root / who / name_of(who, k))
    return root


def test_identity_subset_and_labels(tmp_path):
    root = _folder(tmp_path, {'ann': 2, 'bob': 1, 'cid': 3})
    dataset = FaceFolderDataset(str(root), identities=['cid', 'ann'])
    assert dataset.metainfo['classes'] == ('cid', 'ann')
    assert [(Path(s['img_path']).parent.name, s['gt_label']) for s in dataset] == \
        [('cid', 0)] * 3 + [('ann', 1)] * 2


def test_identity_folder_without_images_is_named(tmp_path):
    root = _folder(tmp_path, {'ann': 2})
    (root / 'empty').mkdir()
    with pytest.raises(ValueError, match=r'identity folder .*empty has no images'):
        FaceFolderDataset(str(root))


def test_unknown_identity_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"identities \['zed'\] have no folder"):
        FaceFolderDataset(str(_folder(tmp_path, {'ann': 1})), identities=['zed'])


def _lfw(tmp_path) -> Path:
    return _folder(tmp_path / 'lfw', {'Ann_A': 2, 'Bob_B': 1}, lambda who, k: f'{who}_{k:04d}.jpg')


def test_lfw_pairs(tmp_path):
    root = _lfw(tmp_path)
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('1 1\nAnn_A 1 2\nAnn_A 2 Bob_B 1\n')
    paths, issame = read_pairs(str(pairs), str(root))
    assert issame == [True, False]
    assert [Path(p).name for p in paths] == ['Ann_A_0001.jpg', 'Ann_A_0002.jpg', 'Ann_A_0002.jpg', 'Bob_B_0001.jpg']
    dataset = FaceVerificationDataset(pairs_file=str(pairs), data_root=str(root))
    assert [(s['pair_index'], s['pair_side'], s['is_same']) for s in dataset] == \
        [(0, 0, True), (0, 1, True), (1, 0, False), (1, 1, False)]


@pytest.mark.parametrize('line, message', [
    ('Ann_A 1 3', r'pairs.txt, line 2: image .*Ann_A_0003.jpg \(of Ann_A, number 3\) does not exist'),
    ('Ann_A one 2', r'pairs.txt, line 2: expected "name n1 n2" or "name1 n1 name2 n2"'),
    ('Ann_A 1 1', r"pairs.txt, line 2: 'Ann_A 1 1' pairs an image with itself"),  # a sure match, counted
    ('Ann_A 2 Ann_A 2', r'pairs an image with itself'),
])
def test_bad_pairs_lines_are_named(tmp_path, line, message):
    root = _lfw(tmp_path)
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text(f'10 300\n{line}\n')
    with pytest.raises((FileNotFoundError, ValueError), match=message):
        read_pairs(str(pairs), str(root))


def test_verification_dataset_needs_one_source():
    with pytest.raises(ValueError, match='exactly one of bin_file'):
        FaceVerificationDataset()


def test_a_byte_order_mark_or_blank_lines_before_the_header(tmp_path):
    root = _lfw(tmp_path)
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('\ufeff1 1\nAnn_A 1 2\n', encoding='utf-8')  # the header's '\ufeff1' was read as a pair line
    assert read_pairs(str(pairs), str(root))[1] == [True]
    pairs.write_text('\n\n1 1\nAnn_A 1 2\n')
    assert read_pairs(str(pairs), str(root))[1] == [True]
    pairs.write_bytes('1 1\nAnn_A 1 2 \xe9\n'.encode('latin-1'))
    with pytest.raises(ValueError, match='pairs.txt is not UTF-8 text'):
        read_pairs(str(pairs), str(root))


def test_identities_named_by_numbers_are_pairs_not_headers(tmp_path):
    """Every all-digit line before the first pair was skipped as a header: '1001 1 2' was dropped, and every later
    pair moved up by one."""
    root = _folder(tmp_path / 'ids', {'1001': 2, '1002': 2, 'Abel': 2}, lambda who, k: f'{who}_{k:04d}.jpg')
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('10 300\n1001 1 2\nAbel 1 1002 2\n')
    paths, issame = read_pairs(str(pairs), str(root))
    assert issame == [True, False] and Path(paths[0]).name == '1001_0001.jpg'
    pairs.write_text('1001 1 2\n')  # no header at all: the first line is a pair (three fields)
    assert read_pairs(str(pairs), str(root))[1] == [True]


def test_a_mistyped_pattern_is_named(tmp_path):
    root = _lfw(tmp_path)
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('1 1\nAnn_A 1 2\n')
    with pytest.raises(ValueError, match=r"pattern '\{name\}/\{name\}_\{num:04d\}.jpg' must format with \{name\} and "
                                         r'\{number\} only'):
        read_pairs(str(pairs), str(root), pattern='{name}/{name}_{num:04d}.jpg')  # a bare KeyError: 'num'
