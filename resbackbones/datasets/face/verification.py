"""Verification pairs as a dataset: insightface's ``.bin`` or LFW's ``pairs.txt`` over an image folder.

Each pair gives two samples, in order (pair k is samples 2k and 2k+1), each tagged with ``pair_index``,
``pair_side`` (0/1), ``is_same`` and ``verification_set`` (the .bin's name, e.g. 'lfw'); ``FaceVerificationMetric``
puts the pairs back together from these tags, so the order in which the data loader or the ranks deliver them does
not matter. Several .bin files in one dataset are arcface_torch's ``val_targets``: one validation pass scores each.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset

from ...registry import DATASETS, TRANSFORMS
from .bin_file import read_bin
from .lfw_pairs import LFW_PATTERN, read_pairs


@DATASETS.register_module()
class FaceVerificationDataset(BaseDataset):
    """Pairs of face images with same/different flags.

    Args:
        bin_file: an insightface .bin (lfw.bin, cfp_fp.bin ...), or a list of them scored separately (each named
            by its file name without .bin; names must differ): samples carry ``img_bytes`` (pipeline starts with
            LoadImageFromBytes). Or:
        pairs_file + data_root: LFW's pairs.txt and its image folder (``pattern`` names an image, default
            ``{name}/{name}_{number:04d}.jpg``): samples carry ``img_path`` (pipeline starts with
            LoadImageFromFile).
        pipeline: transforms; end with ``PackInputs(meta_keys=('pair_index', 'pair_side', 'is_same'))`` (and
            'verification_set' when there are several .bin files).
    """

    def __init__(self, bin_file: str | Sequence[str] | None = None, pairs_file: str | None = None,
                 data_root: str = '', pattern: str = LFW_PATTERN, pipeline: Sequence[dict | Callable] = (),
                 **kwargs: Any):
        if (bin_file is None) == (pairs_file is None):
            raise ValueError('FaceVerificationDataset: give exactly one of bin_file (insightface .bin) or '
                             'pairs_file (LFW pairs.txt, with data_root)')
        self.bin_files = _named_bin_files(bin_file) if bin_file is not None else {}
        self.bin_file, self.pairs_file, self.pattern = bin_file, pairs_file, pattern
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        if len(self.bin_files) > 1:
            _require_set_tag(built, list(self.bin_files))
        super().__init__(data_root=data_root, pipeline=built, serialize_data=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        if not self.bin_files:
            paths, issame = read_pairs(self.pairs_file, self.data_root, self.pattern)
            name = Path(self.pairs_file).stem
            self.issame = issame
            self._metainfo['verification_sets'] = [name]
            return _tagged([dict(img_path=p) for p in paths], issame, name)
        samples, self.issame = [], []
        for name, path in self.bin_files.items():
            images, issame = read_bin(path)
            samples += _tagged([dict(img_bytes=b, img_source=f'{path}, image {i}') for i, b in enumerate(images)],
                               issame, name)
            self.issame += list(issame)
        self._metainfo['verification_sets'] = list(self.bin_files)
        return samples

    @property
    def source(self) -> str:
        return ', '.join(self.bin_files.values()) if self.bin_files else os.fspath(self.pairs_file)


def _tagged(samples: list[dict], issame: Sequence[bool], name: str) -> list[dict]:
    for i, sample in enumerate(samples):
        sample.update(pair_index=i // 2, pair_side=i % 2, is_same=bool(issame[i // 2]), verification_set=name)
    return samples


def _named_bin_files(bin_file: str | Sequence[str]) -> dict[str, str]:
    """{set name: path}: each .bin named by its file name without the extension, as insightface logs them."""
    paths = [bin_file] if isinstance(bin_file, (str, os.PathLike)) else list(bin_file)
    if not paths or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise ValueError(f'FaceVerificationDataset: bin_file must be a .bin path or a non-empty list of them; '
                         f'got {bin_file!r}')
    named: dict[str, str] = {}
    for path in map(os.fspath, paths):
        name = Path(path).stem
        if name in named:
            raise ValueError(f'FaceVerificationDataset: bin_file names two sets {name!r} ({named[name]} and '
                             f'{path}); the metric reports each set under its file name, so names must differ')
        named[name] = path
    return named


def _require_set_tag(pipeline: Sequence[Callable], names: list[str]) -> None:
    """Several sets are scored apart only if the packed samples keep their set name; without it their pairs
    would be pooled and reported as one number."""
    packers = [t for t in pipeline if hasattr(t, 'meta_keys')]
    if packers and 'verification_set' not in packers[-1].meta_keys:
        raise ValueError(f"FaceVerificationDataset: bin_file lists {len(names)} sets ({', '.join(names)}) but the "
                         f"pipeline's {type(packers[-1]).__name__} meta_keys {tuple(packers[-1].meta_keys)} drop "
                         f"'verification_set'; add it so that each set is scored on its own")
