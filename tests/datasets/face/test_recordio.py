"""RecordIO without mxnet: records laid out byte by byte as dmlc-core writes them are read back; make_rec.py's
output reads as insightface's MXFaceDataset reads it; bad magic, bad length and a stale .idx name file and record."""
from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resbackbones.datasets.face import FaceRecDataset, IndexedRecordReader, IRHeader, pack_record, unpack_record
from resbackbones.datasets.face.recordio import MAGIC, encode_parts, write_indexed_records

ROOT = Path(__file__).resolve().parents[3]
MAGIC_LE = struct.pack('<I', MAGIC)


def _by_hand(payload: bytes) -> bytes:
    """One record as dmlc's RecordIOWriter lays it out, for a payload without the magic inside: magic, length word
    (flag 0), bytes, zero padding to 4."""
    return MAGIC_LE + struct.pack('<I', len(payload)) + payload + b'\0' * (-len(payload) % 4)


def test_layout_matches_dmlc_byte_for_byte(tmp_path):
    payloads = [b'abc', b'', b'12345678', bytes(range(7))]
    assert b''.join(encode_parts(p) for p in payloads) == b''.join(_by_hand(p) for p in payloads)
    # a payload holding the magic at a 4-byte boundary is split there: part 1 (flag 1), part 3 (flag 3), magic dropped
    split = b'head' + MAGIC_LE + b'tail!'
    assert encode_parts(split) == (MAGIC_LE + struct.pack('<I', 1 << 29 | 4) + b'head'
                                   + MAGIC_LE + struct.pack('<I', 3 << 29 | 5) + b'tail!' + b'\0' * 3)
    write_indexed_records(str(tmp_path / 'a.rec'), str(tmp_path / 'a.idx'),
                          enumerate(payloads + [split, MAGIC_LE * 3 + b'x']))
    reader = IndexedRecordReader(str(tmp_path / 'a.rec'), str(tmp_path / 'a.idx'))
    assert [reader.read(k) for k in reader.keys] == payloads + [split, MAGIC_LE * 3 + b'x']
    assert (tmp_path / 'a.idx').read_text().splitlines()[:2] == ['0\t0', '1\t12']  # key<TAB>offset


def test_irheader_as_mxnet_packs_it():
    scalar = pack_record(IRHeader(0, 3.0, 17, 0), b'JPEG')
    assert scalar == struct.pack('<IfQQ', 0, 3.0, 17, 0) + b'JPEG'
    vector = pack_record(IRHeader(0, [5, 9], 0, 0), b'')
    assert vector == struct.pack('<IfQQ', 2, 0.0, 0, 0) + np.array([5, 9], '<f4').tobytes()
    header, payload = unpack_record(vector + b'img', 'x')
    assert header.flag == 2 and header.label.tolist() == [5.0, 9.0] and payload == b'img'
    # numpy scalars are numbers to mxnet (flag 0); they were packed as 1-element arrays (flag 1), and a flag > 0 in
    # record 0 made FaceRecDataset read it as insightface's header and drop most images
    for label in (np.int64(3), np.float32(3.0), np.array(3.0)):
        assert pack_record(IRHeader(0, label, 17, 0), b'JPEG') == scalar


def test_a_header_record_that_declares_no_images_is_named(tmp_path):
    """record 0 with flag > 0 and first label 1: no image keys, and mmengine failed with 'need at least one array
    to concatenate'."""
    records = [(0, pack_record(IRHeader(0, [1.0, 5.0], 0, 0), b''))] + \
        [(k, pack_record(IRHeader(0, 0.0, k, 0), b'x')) for k in (1, 2)]
    write_indexed_records(str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx'), records)
    with pytest.raises(ValueError, match=r'train.rec: record 0 is an insightface header \(flag 2\) whose first label '
                                         r'1 declares no image keys'):
        FaceRecDataset(data_root=str(tmp_path))


def _faces(root: Path, identities: int = 3, per: int = 4) -> Path:
    rng = np.random.default_rng(0)
    for i in range(identities):
        (root / f'id{i}').mkdir(parents=True)
        for j in range(per):
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(root / f'id{i}' / f'{j}.png')
    return root


def test_make_rec_round_trip_in_insightfaces_layout(tmp_path):
    root = _faces(tmp_path / 'faces')
    done = subprocess.run([sys.executable, str(ROOT / 'tools/face/make_rec.py'), str(root), str(tmp_path / 'rec'),
                           '--keep-bytes'], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    reader = IndexedRecordReader(str(tmp_path / 'rec/train.rec'), str(tmp_path / 'rec/train.idx'))
    header0, _ = reader.read_image_record(0)
    assert header0.flag == 2 and header0.label.tolist() == [13, 16]  # 12 images, 3 identity records
    assert reader.read_image_record(14)[0].label.tolist() == [5, 9]   # identity 1: images 5..8
    dataset = FaceRecDataset(str(tmp_path / 'rec'), pipeline=[dict(type='LoadImageFromBytes'), dict(type='PackInputs')])
    assert len(dataset) == 12
    sample = dataset[5]
    want = np.asarray(Image.open(root / 'id1' / '1.png'))
    assert sample['data_samples']['gt_label'] == 1 and np.array_equal(sample['inputs'].permute(1, 2, 0).numpy(), want)


def _rec(tmp_path, payloads) -> tuple[str, str]:
    rec, idx = str(tmp_path / 'train.rec'), str(tmp_path / 'train.idx')
    write_indexed_records(rec, idx, enumerate(payloads))
    return rec, idx


def test_bad_magic_is_named(tmp_path):
    rec, idx = _rec(tmp_path, [pack_record(IRHeader(0, 0.0, 0, 0), b'x' * 8)] * 2)
    data = bytearray(Path(rec).read_bytes())
    data[40:44] = b'\xde\xad\xbe\xef'  # the second record's magic
    Path(rec).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r'train.rec, record 1 \(byte 40\): bad magic number 0xefbeadde'):
        IndexedRecordReader(rec, idx).read(1)


def test_bad_length_is_named(tmp_path):
    rec, idx = _rec(tmp_path, [b'y' * 8])
    data = bytearray(Path(rec).read_bytes())
    data[4:8] = struct.pack('<I', 1000)
    Path(rec).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r'record 0 \(byte 0\): bad length word .*1000 bytes.* past the end'):
        IndexedRecordReader(rec, idx).read(0)


def test_idx_entry_past_the_end_is_named(tmp_path):
    rec, idx = _rec(tmp_path, [b'z' * 8])
    Path(idx).write_text('0\t0\n1\t999\n')
    with pytest.raises(ValueError, match=r'train.idx, line 2: key 1 points at byte 999, past the end of .*train.rec'):
        IndexedRecordReader(rec, idx)


def test_label_beyond_num_classes_is_named(tmp_path):
    buffer = io.BytesIO()
    Image.new('RGB', (4, 4)).save(buffer, format='PNG')
    _rec(tmp_path, [pack_record(IRHeader(0, float(label), 0, 0), buffer.getvalue()) for label in (0, 7)])
    dataset = FaceRecDataset(str(tmp_path), num_classes=5)
    assert dataset.get_data_info(0)['gt_label'] == 0
    with pytest.raises(ValueError, match=r'train.rec, record 1: label 7.0 is not an identity in \[0, 5\)'):
        dataset.get_data_info(1)


@pytest.mark.parametrize('label', [float('nan'), float('inf'), 2.5, -1.0])
def test_a_label_that_is_no_identity_is_named(tmp_path, label):
    buffer = io.BytesIO()
    Image.new('RGB', (4, 4)).save(buffer, format='PNG')
    _rec(tmp_path, [pack_record(IRHeader(0, label, 0, 0), buffer.getvalue())])
    with pytest.raises(ValueError, match=r'train.rec, record 0: label .* is not an identity'):
        FaceRecDataset(str(tmp_path)).get_data_info(0)


@pytest.mark.parametrize('idx_text, message', [
    ('0\t0\n1\t0\n1\t0\n', 'line 3: key 1 is listed a second time'),
    ('0\t0\n\u00b2\t0\n', 'line 2: expected "key<TAB>offset"'),  # a digit int() would not read
])
def test_an_idx_with_a_repeated_or_unreadable_key_is_named(tmp_path, idx_text, message):
    rec, idx = _rec(tmp_path, [b'a', b'b'])
    with open(idx, 'w', encoding='utf-8') as f:
        f.write(idx_text)
    with pytest.raises(ValueError, match=message):
        IndexedRecordReader(rec, idx)


def test_make_rec_decodes_16_bit_and_rotated_images_as_the_datasets_do(tmp_path):
    """Without --keep-bytes every image is re-encoded: 16-bit grey went white (convert('L') clips) and an
    EXIF-rotated photo was stored sideways, while every dataset and embed.py read them scaled and upright."""
    from resbackbones.transforms.loading import read_image
    from tests.engine.tiny import load_tool
    image_bytes = load_tool('face/make_rec').image_bytes
    ramp = (np.arange(32 * 16).reshape(32, 16) * 120).astype(np.uint16)  # 0..61320
    Image.fromarray(ramp).save(tmp_path / 'deep.png')
    photo = Image.fromarray(np.repeat(np.linspace(0, 255, 32 * 16).reshape(16, 32, 1), 3, 2).astype(np.uint8))
    exif = photo.getexif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    photo.save(tmp_path / 'turned.jpg', exif=exif, quality=95)
    for name, color in (('deep.png', 'grayscale'), ('turned.jpg', 'color')):
        stored = np.asarray(Image.open(io.BytesIO(image_bytes(str(tmp_path / name), False, 95))))
        shown = read_image(str(tmp_path / name), color)
        assert stored.shape[:2] == shown.shape[:2], name
        assert np.abs(stored.astype(float).reshape(shown.shape[:2] + (-1,)) - shown).mean() < 3, name
