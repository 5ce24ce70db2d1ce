"""MXNet's indexed RecordIO (insightface's ``train.rec`` + ``train.idx``), read and written without mxnet.

A record on disk (dmlc-core ``recordio.h``): the magic 0xced7230a (uint32, little-endian), a length word whose upper
3 bits are a continuation flag (0 whole, 1 first part, 2 middle part, 3 last part) and lower 29 bits the part
length, the part's bytes, zero padding to a multiple of 4 after the last part. A payload that contains the magic
at a 4-byte boundary is split there into parts and the magic left out (the reader puts it back). The ``.idx`` file
has one ``key<TAB>offset`` line per record, the byte offset of its first magic word.

The payload of an image record (mxnet ``recordio.pack``) is IRHeader (flag uint32, label float32, id uint64, id2
uint64; ``<IfQQ``, 24 bytes), then ``flag`` float32 labels when flag > 0 (the label field is then unused), then the
encoded image. insightface's record 0 has flag 2 and labels (first key past the images, ...).
"""
from __future__ import annotations

import numbers
import os
import struct
from typing import Iterable, NamedTuple

import numpy as np

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack('<I', MAGIC)
IR_FORMAT = '<IfQQ'
IR_SIZE = struct.calcsize(IR_FORMAT)
LENGTH_MASK = (1 << 29) - 1


class IRHeader(NamedTuple):
    """mxnet's image record header; ``label`` is a float or, when ``flag`` > 0, a float32 array of ``flag``."""
    flag: int
    label: float | np.ndarray
    id: int
    id2: int


def pack_record(header: IRHeader, payload: bytes) -> bytes:
    """IRHeader + payload as mxnet ``recordio.pack`` lays it out (an array label sets ``flag`` to its length)."""
    label = header.label
    if isinstance(label, numbers.Number) or np.ndim(label) == 0:  # numpy scalars too, as mxnet's numbers.Number
        return struct.pack(IR_FORMAT, 0, float(label), header.id, header.id2) + payload
    values = np.asarray(label, dtype='<f4').ravel()
    return struct.pack(IR_FORMAT, len(values), 0.0, header.id, header.id2) + values.tobytes() + payload


def unpack_record(record: bytes, where: str) -> tuple[IRHeader, bytes]:
    """(IRHeader, payload) of one record's bytes; ValueError naming ``where`` when they are too short."""
    if len(record) < IR_SIZE:
        raise ValueError(f'{where}: record of {len(record)} bytes is shorter than the {IR_SIZE}-byte IRHeader')
    flag, label, id1, id2 = struct.unpack_from(IR_FORMAT, record)
    body = record[IR_SIZE:]
    if flag > 0:
        if len(body) < 4 * flag:
            raise ValueError(f'{where}: IRHeader says {flag} float labels but only {len(body)} bytes follow')
        return IRHeader(flag, np.frombuffer(body[:4 * flag], dtype='<f4').copy(), id1, id2), body[4 * flag:]
    return IRHeader(flag, label, id1, id2), body


def encode_parts(payload: bytes) -> bytes:
    """The on-disk bytes of one record (dmlc ``RecordIOWriter::WriteRecord``)."""
    out, start = [], 0
    for i in range(0, len(payload) - len(payload) % 4, 4):
        if payload[i:i + 4] == MAGIC_BYTES:
            out += [MAGIC_BYTES, struct.pack('<I', (1 if start == 0 else 2) << 29 | (i - start)), payload[start:i]]
            start = i + 4
    out += [MAGIC_BYTES, struct.pack('<I', (3 if start else 0) << 29 | (len(payload) - start)), payload[start:]]
    out.append(b'\0' * (-len(payload) % 4))
    return b''.join(out)


class IndexedRecordReader:
    """Random access to the records of ``rec_path`` through ``idx_path`` (mxnet's ``MXIndexedRecordIO``, 'r').

    Every error names the file, the key and the byte offset. The file is opened lazily per process, so the
    reader can be handed to data loader workers.
    """

    def __init__(self, rec_path: str, idx_path: str):
        for path in (rec_path, idx_path):
            if not os.path.isfile(path):
                raise FileNotFoundError(f'RecordIO file not found: {path}')
        self.rec_path, self.idx_path = rec_path, idx_path
        self.size = os.path.getsize(rec_path)
        self.offsets: dict[int, int] = {}
        with open(idx_path, encoding='utf-8') as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.split('\t')
                if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
                    raise ValueError(f'{idx_path}, line {line_no}: expected "key<TAB>offset"; got {line.strip()!r}')
                key, offset = int(parts[0]), int(parts[1])
                if key in self.offsets:  # the later line would win: that record's image under another's label
                    raise ValueError(f'{idx_path}, line {line_no}: key {key} is listed a second time')
                if offset >= self.size:
                    raise ValueError(f'{idx_path}, line {line_no}: key {key} points at byte {offset}, past the end '
                                     f'of {rec_path} ({self.size} bytes): the .idx does not belong to this .rec '
                                     f'or the .rec is truncated')
                self.offsets[key] = offset
        self.keys = list(self.offsets)
        self._file = None
        self._pid = None

    def _handle(self):
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = open(self.rec_path, 'rb'), os.getpid()
        return self._file

    def read(self, key: int) -> bytes:
        """The payload of record ``key`` (parts joined, magic restored, padding dropped)."""
        if key not in self.offsets:
            raise KeyError(f'{self.idx_path} has no record {key}')
        f, offset = self._handle(), self.offsets[key]
        f.seek(offset)
        parts = []
        while True:
            where = f'{self.rec_path}, record {key} (byte {f.tell()})'
            head = f.read(8)
            if len(head) < 8:
                raise ValueError(f'{where}: the file ends inside the record header')
            magic, word = struct.unpack('<II', head)
            if magic != MAGIC:
                raise ValueError(f'{where}: bad magic number 0x{magic:08x} (expected 0x{MAGIC:08x}): not an MXNet '
                                 f'RecordIO record; is the .idx offset right?')
            flag, length = word >> 29, word & LENGTH_MASK
            if flag > 3 or f.tell() + length > self.size:
                raise ValueError(f'{where}: bad length word 0x{word:08x} (continuation flag {flag}, {length} bytes) '
                                 f'runs past the end of the file ({self.size} bytes)')
            parts.append(f.read(length))
            if flag in (0, 3):
                return b''.join(parts)
            parts.append(MAGIC_BYTES)

    def read_image_record(self, key: int) -> tuple[IRHeader, bytes]:
        """(IRHeader, image bytes) of record ``key``."""
        return unpack_record(self.read(key), f'{self.rec_path}, record {key}')

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __getstate__(self) -> dict:  # open files do not pickle (data loader workers)
        return {**self.__dict__, '_file': None, '_pid': None}


def write_indexed_records(rec_path: str, idx_path: str, records: Iterable[tuple[int, bytes]]) -> int:
    """Write ``(key, payload)`` records to ``rec_path`` and ``idx_path`` (each appears atomically); returns the
    count."""
    from ...engine.atomic import atomic_path

    count = 0
    with atomic_path(rec_path) as rec_tmp, atomic_path(idx_path) as idx_tmp:
        with open(rec_tmp, 'wb') as rec, open(idx_tmp, 'w', encoding='utf-8') as idx:
            for key, payload in records:
                idx.write(f'{key}\t{rec.tell()}\n')
                rec.write(encode_parts(payload))
                count += 1
    return count
