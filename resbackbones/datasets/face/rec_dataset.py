"""insightface's training sets as shipped (MS1MV2, MS1MV3, Glint360K, WebFace): ``train.rec`` + ``train.idx``."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from ...registry import DATASETS
from ..base import ClassificationDataset
from .recordio import IndexedRecordReader


@DATASETS.register_module()
class FaceRecDataset(ClassificationDataset):
    """Images and identity labels from an MXNet indexed RecordIO pair, read without mxnet.

    Args:
        data_root: folder holding ``train.rec`` and ``train.idx`` (insightface's layout); or give
            ``rec_file``/``idx_file``. num_classes: when given, a record whose label is >= it is an error naming
            the record (a config whose num_classes is too small would otherwise fail deep in the loss).
        pipeline: starts with ``LoadImageFromBytes`` (the samples carry ``img_bytes``, not a path).

    As insightface's MXFaceDataset: when record 0 has flag > 0 its first label is one past the last image key, and
    the images are keys 1 .. that - 1; otherwise every key in the .idx is an image. A record's label is its
    IRHeader label (the first of an array label). Records are read when a sample is asked for.
    """

    def __init__(self, data_root: str = '', pipeline: Sequence[dict | Callable] = (), rec_file: str = 'train.rec',
                 idx_file: str = 'train.idx', num_classes: int | None = None, **kwargs: Any):
        self.reader = IndexedRecordReader(os.path.join(data_root, rec_file), os.path.join(data_root, idx_file))
        self.num_classes = num_classes
        super().__init__(data_root=data_root, pipeline=pipeline, **kwargs)

    @property
    def source(self) -> str:
        return self.reader.rec_path

    def load_data_list(self) -> list[dict]:
        first = self.reader.keys[0] if self.reader.keys else None
        if first is None:
            raise ValueError(f'{self.reader.idx_path} lists no records')
        header, _ = self.reader.read_image_record(0 if 0 in self.reader.offsets else first)
        if 0 in self.reader.offsets and header.flag > 0:
            end = int(header.label[0])
            if end <= 1:  # mmengine's 'need at least one array to concatenate' named no file
                raise ValueError(f'{self.reader.rec_path}: record 0 is an insightface header (flag {header.flag}) '
                                 f'whose first label {header.label[0]:g} declares no image keys (1..label-1); '
                                 'write the header as (number of images + 1, ...) or leave it out')
            keys = list(range(1, end))
            absent = [k for k in keys if k not in self.reader.offsets]
            if absent:
                raise ValueError(f'{self.reader.idx_path}: record 0 says images are keys 1..{end - 1} but '
                                 f'{len(absent)} are not in the index (first: {absent[0]})')
        else:
            keys = list(self.reader.keys)
        return [dict(rec_key=k) for k in keys]

    def get_data_info(self, idx: int) -> dict:
        """The sample with its ``img_bytes``, ``gt_label`` and ``img_source`` ('train.rec, record K')."""
        info = super().get_data_info(idx)
        key = info['rec_key']
        header, image = self.reader.read_image_record(key)
        label = header.label[0] if header.flag > 0 else header.label
        where = f'{self.reader.rec_path}, record {key}'
        if not np.isfinite(label) or label < 0 or label != int(label) or (
                self.num_classes is not None and label >= self.num_classes):
            raise ValueError(f'{where}: label {label} is not an identity in [0, {self.num_classes}) '
                             f'(num_classes={self.num_classes})')
        info.update(img_bytes=image, gt_label=int(label), img_source=where)
        return info
