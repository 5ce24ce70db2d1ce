"""Write insightface's training format (``train.rec`` + ``train.idx``, MXNet indexed RecordIO) from identity folders.

    python tools/face/make_rec.py ROOT OUT_DIR [--jpeg-quality 95] [--keep-bytes]

ROOT/<identity>/<image>: identity i is the i-th folder in sorted order. The layout is insightface's: record 0 has
flag 2 and labels (N + 1, N + 1 + identities), images are records 1..N (IRHeader label = identity, payload JPEG),
then one record per identity whose labels are (first, last + 1) of its image keys. FaceRecDataset, insightface's
MXFaceDataset and mxnet's MXIndexedRecordIO read it. Images are re-encoded as JPEG unless --keep-bytes (then each
file's bytes go in as they are, e.g. PNG).
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Iterator, Sequence

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from resbackbones.datasets.face import FaceFolderDataset, IRHeader, pack_record, write_indexed_records  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.transforms.loading import SIXTEEN_BIT, CorruptImageError, as_color_type  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='make_rec.py', description='Identity folders -> insightface train.rec/train.idx.')
    parser.add_argument('root', help='folder of identity folders (ROOT/<identity>/<image>)')
    parser.add_argument('out_dir', help='where train.rec and train.idx are written')
    parser.add_argument('--jpeg-quality', type=int, default=95, help='JPEG quality of the re-encoded images')
    parser.add_argument('--keep-bytes', action='store_true', help='store the files as they are (no re-encoding)')
    return parser.parse_args(argv)


def image_bytes(path: str, keep: bool, quality: int) -> bytes:
    """The payload of one image: its file bytes, or a JPEG re-encoding (RGB; grey stays grey). Either way the file
    is decoded first: a truncated image stopped the tool with a bare traceback naming no file, and with --keep-bytes
    went into the .rec to fail in training."""
    try:
        with Image.open(path) as img:
            # as every reader of the project decodes a file: EXIF orientation applied, 16-bit scaled (convert
            # alone clipped 16-bit grey to white and left rotated photos sideways)
            img = as_color_type(img, 'grayscale' if img.mode in ('L', 'LA', *SIXTEEN_BIT) else 'color')
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise CorruptImageError(path, f'{type(err).__name__}: {err}') from err
    if keep:
        with open(path, 'rb') as f:
            return f.read()
    buffer = io.BytesIO()
    img.save(buffer, format='JPEG', quality=quality)
    return buffer.getvalue()


def records(samples: list[dict], num_ids: int, keep: bool, quality: int) -> Iterator[tuple[int, bytes]]:
    n = len(samples)
    yield 0, pack_record(IRHeader(2, [n + 1, n + 1 + num_ids], 0, 0), b'')
    ranges: dict[int, list[int]] = {}
    for key, sample in enumerate(samples, 1):
        label = sample['gt_label']
        ranges.setdefault(label, [key, key])[1] = key
        yield key, pack_record(IRHeader(0, float(label), key, 0), image_bytes(sample['img_path'], keep, quality))
    for label in range(num_ids):
        first, last = ranges[label]
        yield n + 1 + label, pack_record(IRHeader(2, [first, last + 1], n + 1 + label, 0), b'')


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not 1 <= args.jpeg_quality <= 100:
        raise ValueError(f'--jpeg-quality must be in 1..100; got {args.jpeg_quality}')
    dataset = FaceFolderDataset(args.root)
    samples = [dataset.get_data_info(i) for i in range(len(dataset))]
    num_ids = len(dataset.metainfo['classes'])
    os.makedirs(args.out_dir, exist_ok=True)
    count = write_indexed_records(os.path.join(args.out_dir, 'train.rec'), os.path.join(args.out_dir, 'train.idx'),
                                  records(samples, num_ids, args.keep_bytes, args.jpeg_quality))
    print(f'wrote {len(samples)} images of {num_ids} identities ({count} records) to '
          f'{os.path.join(args.out_dir, "train.rec")} and train.idx')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='make_rec.py'))
