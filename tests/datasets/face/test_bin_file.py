"""insightface .bin files: written and read back, insightface's own unpickling sees the same; a .bin naming any
other object is refused before it runs; a wrong shape is named."""
from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets.face import FaceVerificationDataset, read_bin, write_bin


def _png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(buffer, format='PNG')
    return buffer.getvalue()


def test_round_trip_and_insightface_reads_it(tmp_path):
    images, issame = [_png(v) for v in range(8)], [True, False, True, False]
    path = write_bin(str(tmp_path / 'x.bin'), images, issame)
    assert read_bin(path) == (images, issame)
    with open(path, 'rb') as f:
        bins, flags = pickle.load(f, encoding='bytes')  # what insightface's load_bin does
    assert bins == images and flags == issame


@pytest.mark.parametrize('issame', [np.array([True, False]), (True, False)])
def test_numpy_flags_and_python2_style_pickles_are_admitted(tmp_path, issame):
    path = tmp_path / 'old.bin'
    with open(path, 'wb') as f:
        pickle.dump(([bytearray(_png(1)), _png(2), _png(3), _png(4)], issame), f, protocol=2)
    images, flags = read_bin(str(path))
    assert flags == [True, False] and images[0] == _png(1)


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


def test_foreign_pickle_content_is_refused_before_it_runs(tmp_path):
    path = tmp_path / 'evil.bin'
    path.write_bytes(pickle.dumps(([_png(1), _png(2)], [_Evil()])))
    with pytest.raises(ValueError, match=r'evil.bin: refused to unpickle posix.system'):
        read_bin(str(path))


@pytest.mark.parametrize('content, message', [
    (([b'a', b'b', b'c'], [True]), r'expected 2N image byte strings and N .* got 3 images and 1 flags'),
    ('not a pair', r'expected a pickled \(bins, issame_list\) pair'),
    (([3, 2], [True]), r'image 0 is a int, not encoded image bytes'),  # bytes(3) would be three zero bytes
    (([b'a', b'b'], ['False']), r"flag 0 is 'False', not a boolean"),  # bool('False') would be True
    (([b'a', b'b', b'c', b'd'], [1, 2]), r'flag 1 is 2, not a boolean \(or 0/1\)'),
])
def test_wrong_shape_is_named(tmp_path, content, message):
    path = tmp_path / 'bad.bin'
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(ValueError, match=message):
        read_bin(str(path))


def test_dataset_tags_pairs(tmp_path):
    path = write_bin(str(tmp_path / 'x.bin'), [_png(v) for v in range(4)], [True, False])
    dataset = FaceVerificationDataset(bin_file=path, pipeline=[
        dict(type='LoadImageFromBytes'), dict(type='PackInputs', meta_keys=('pair_index', 'pair_side', 'is_same'))])
    tags = [dataset[i]['data_samples'] for i in range(4)]
    assert tags == [dict(pair_index=0, pair_side=0, is_same=True), dict(pair_index=0, pair_side=1, is_same=True),
                    dict(pair_index=1, pair_side=0, is_same=False), dict(pair_index=1, pair_side=1, is_same=False)]
    assert int(dataset[3]['inputs'][0, 0, 0]) == 3


def _pack(*keys):
    return [dict(type='LoadImageFromBytes'), dict(type='PackInputs', meta_keys=('pair_index', 'pair_side', 'is_same')
                                                  + keys)]


def test_several_sets_are_tagged_by_name(tmp_path):
    (tmp_path / 'a').mkdir()
    lfw = write_bin(str(tmp_path / 'lfw.bin'), [_png(v) for v in range(4)], [True, False])
    cfp = write_bin(str(tmp_path / 'a' / 'cfp_fp.bin'), [_png(v) for v in range(10, 16)], [False, True, True])
    dataset = FaceVerificationDataset(bin_file=[lfw, cfp], pipeline=_pack('verification_set'))
    tags = [dataset[i]['data_samples'] for i in range(len(dataset))]
    assert [(t['verification_set'], t['pair_index'], t['pair_side']) for t in tags] == \
        [('lfw', i // 2, i % 2) for i in range(4)] + [('cfp_fp', i // 2, i % 2) for i in range(6)]
    assert [t['is_same'] for t in tags[4:]] == [False, False, True, True, True, True]
    assert int(dataset[9]['inputs'][0, 0, 0]) == 15 and dataset.metainfo['verification_sets'] == ['lfw', 'cfp_fp']


def test_several_sets_need_distinct_names_and_their_tag(tmp_path):
    (tmp_path / 'a').mkdir()
    one = write_bin(str(tmp_path / 'lfw.bin'), [_png(v) for v in range(4)], [True, False])
    two = write_bin(str(tmp_path / 'a' / 'lfw.bin'), [_png(v) for v in range(4)], [True, False])
    with pytest.raises(ValueError, match=r"two sets 'lfw' \(.*lfw.bin and .*a/lfw.bin\)"):
        FaceVerificationDataset(bin_file=[one, two], pipeline=_pack('verification_set'))
    other = write_bin(str(tmp_path / 'agedb_30.bin'), [_png(v) for v in range(4)], [True, False])
    with pytest.raises(ValueError, match=r"2 sets \(lfw, agedb_30\) .* drop 'verification_set'"):
        FaceVerificationDataset(bin_file=[one, other], pipeline=_pack())
    with pytest.raises(ValueError, match='non-empty list'):
        FaceVerificationDataset(bin_file=[], pipeline=_pack())
