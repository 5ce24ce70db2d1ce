"""Verification pairs as a dataset: insightface's ``.bin`` or LFW's ``pairs.txt`` over an image folder.

Each pair gives two samples, in order (pair k is samples 2k and 2k+1), each tagged with ``pair_index``,
``pair_side`` (0/1) and ``is_same``; ``FaceVerificationMetric`` puts the pairs back together from these tags, so
the order in which the data loader or the ranks deliver them does not matter.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset

from ...registry import DATASETS, TRANSFORMS
from .bin_file import read_bin
from .lfw_pairs import LFW_PATTERN, read_pairs


@DATASETS.register_module()
class FaceVerificationDataset(BaseDataset):
    """Pairs of face images with same/different flags.

    Args:
        bin_file: an insightface .bin (lfw.bin, cfp_fp.bin ...): samples carry ``img_bytes`` (pipeline starts with
            LoadImageFromBytes). Or:
        pairs_file + data_root: LFW's pairs.txt and its image folder (``pattern`` names an image, default
            ``{name}/{name}_{number:04d}.jpg``): samples carry ``img_path`` (pipeline starts with
            LoadImageFromFile).
        pipeline: transforms; end with ``PackInputs(meta_keys=('pair_index', 'pair_side', 'is_same'))``.
    """

    def __init__(self, bin_file: str | None = None, pairs_file: str | None = None, data_root: str = '',
                 pattern: str = LFW_PATTERN, pipeline: Sequence[dict | Callable] = (), **kwargs: Any):
        if (bin_file is None) == (pairs_file is None):
            raise ValueError('FaceVerificationDataset: give exactly one of bin_file (insightface .bin) or '
                             'pairs_file (LFW pairs.txt, with data_root)')
        self.bin_file, self.pairs_file, self.pattern = bin_file, pairs_file, pattern
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(data_root=data_root, pipeline=built, serialize_data=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        if self.bin_file is not None:
            images, issame = read_bin(self.bin_file)
            samples = [dict(img_bytes=b, img_source=f'{self.bin_file}, image {i}') for i, b in enumerate(images)]
        else:
            paths, issame = read_pairs(self.pairs_file, self.data_root, self.pattern)
            samples = [dict(img_path=p) for p in paths]
        self.issame = issame
        for i, sample in enumerate(samples):
            sample.update(pair_index=i // 2, pair_side=i % 2, is_same=bool(issame[i // 2]))
        return samples

    @property
    def source(self) -> str:
        return os.fspath(self.bin_file or self.pairs_file)
