"""More training identities from few: each new identity is one identity's image with a half of another identity's
image pasted over it (the bottom, right, or a triangle below a diagonal). An open-set protocol with a handful of
training identities (the digits stand-in of docs/face.md) otherwise learns a metric that only separates those few;
composed identities give the margin loss many more classes, built only from the training identities' own pixels,
so nothing of the verification identities is seen."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose

from ...registry import DATASETS, TRANSFORMS

NAME = 'HalfComposedFaceDataset'
# Where the second identity's half goes, as a mask over relative pixel-centre coordinates y, x in (0, 1):
# below the middle row, right of the middle column, below the main diagonal, below the anti-diagonal.
KINDS = {
    'top_bottom': lambda y, x: y > 0.5,
    'left_right': lambda y, x: x > 0.5,
    'main_diagonal': lambda y, x: y > x,
    'anti_diagonal': lambda y, x: y + x > 1,
}
MAX_COMPOSED = 1_000_000  # classes; a set with ~500 identities or more needs no composing (and its K^2 would not fit)


@functools.lru_cache(maxsize=64)
def pasted_region(kind: str, height: int, width: int) -> np.ndarray:
    """(height, width) bool mask of where composition ``kind`` puts the second identity's pixels."""
    y, x = np.meshgrid((np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing='ij')
    return KINDS[kind](y, x)


def origin(sample: dict) -> str:
    """Where a sample's image came from, for messages: its file, or its .rec record."""
    return str(sample.get('img_path') or sample.get('img_source') or '?')


def identity_names(dataset: torch.utils.data.Dataset, labels: np.ndarray) -> list[str]:
    """The wrapped dataset's identity names: its ``metainfo['classes']`` (identity folders), else label numbers up
    to its ``num_classes`` or its largest label (insightface's .rec sets carry numbers only)."""
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    if classes is not None:
        return [str(c) for c in classes]
    count = getattr(dataset, 'num_classes', None) or (int(labels.max()) + 1 if len(labels) else 0)
    return [str(i) for i in range(count)]


@DATASETS.register_module()
class HalfComposedFaceDataset(torch.utils.data.Dataset):
    """Samples of composed identities, drawn afresh at every access.

    Each sample draws a kind, two identities ``a`` and ``b`` (uniformly; they may be equal) and one image of each,
    and keeps ``a``'s image with ``b``'s image pasted over one half: the bottom half ('top_bottom'), the right
    half ('left_right'), or the triangle below the main diagonal ('main_diagonal', top-left to bottom-right) or
    below the anti-diagonal ('anti_diagonal', bottom-left to top-right). Labels: identity ``i`` of the wrapped dataset
    keeps label ``i`` (a == b: two images of one identity joined, which is that identity); the composed pair
    (kind k, a, b != a) is ``K + k*K*(K-1) + a*(K-1) + (b if b < a else b - 1)`` for ``K`` identities, so
    ``num_classes = K + len(kinds) * K * (K-1)`` (``metainfo['classes']`` names each, e.g. 'top_bottom:3+5').

    Args:
        dataset: the identity dataset (config or built) whose pipeline only loads the image: FaceFolderDataset with
            ``[LoadImageFromFile]``, FaceRecDataset with ``[LoadImageFromBytes]``. Its samples must give ``img``
            (HxW[xC] array, one shape for every image) and ``gt_label``; at most ~500 identities (K^2 classes).
        pipeline: transforms applied to the composed sample (resize, augmentation, PackInputs).
        kinds: which compositions to make, a non-empty subset of the four above (default: all).
        times: samples per epoch as a multiple of the wrapped dataset's length (draws are random, so an epoch of
            ``times`` x the images sees about that many composed images).
        cache: keep every loaded sample of the wrapped dataset in memory (each composed sample loads two): for
            small sets such as the digits, where decoding costs as much as the training step; each data loader
            worker keeps its own copy.

    The draws use torch's random generator, so they follow the run's seed, and data loader workers (seeded by
    PyTorch per worker and epoch) draw differently from each other and from epoch to epoch.
    """

    def __init__(self, dataset: dict | torch.utils.data.Dataset, pipeline: Sequence[dict | Callable] = (),
                 kinds: Sequence[str] = tuple(KINDS), times: int = 1, cache: bool = False):
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if bad or not kinds or len(set(kinds)) != len(kinds):
            raise ValueError(f'{NAME}: kinds must be distinct values from {list(KINDS)}; got {list(kinds)}')
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f'{NAME}: times must be an integer >= 1; got {times!r}')
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.kinds, self.times = kinds, times
        self.cache: dict[int, dict] | None = {} if cache else None
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline])
        labels = np.array([int(self.dataset.get_data_info(i)['gt_label']) for i in range(len(self.dataset))])
        names = identity_names(self.dataset, labels)
        composed = len(kinds) * len(names) * (len(names) - 1)
        if composed > MAX_COMPOSED:
            raise ValueError(f'{NAME}: {len(names)} identities would make {composed:,} composed classes (more than '
                             f'{MAX_COMPOSED:,}); composing is for sets with few identities')
        self.num_identities = len(names)
        self.by_identity = self._group_by_identity(labels, names)
        self._metainfo = dict(getattr(self.dataset, 'metainfo', {}), classes=tuple(
            names + [f'{kind}:{a}+{b}' for kind in kinds for a in names for b in names if a != b]))

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo with ``classes`` extended by the composed identities, in label order."""
        return dict(self._metainfo)

    @property
    def num_classes(self) -> int:
        """``K + len(kinds) * K * (K - 1)``: the model's ``num_classes`` for this dataset."""
        return len(self._metainfo['classes'])

    def _group_by_identity(self, labels: np.ndarray, names: list[str]) -> list[np.ndarray]:
        count = len(names)
        if count < 2:
            raise ValueError(f'{NAME}: the wrapped dataset has {count} identity; composing needs at least 2')
        outside = sorted(set(labels.tolist()) - set(range(count)))
        if outside:
            raise ValueError(f'{NAME}: the wrapped dataset has labels {outside[:5]} outside its {count} classes')
        groups = [np.flatnonzero(labels == i) for i in range(count)]
        empty = [names[i] for i, g in enumerate(groups) if len(g) == 0]
        if empty:
            raise ValueError(f'{NAME}: identities {empty[:10]} have no samples in the wrapped dataset')
        return groups

    def __len__(self) -> int:
        return self.times * len(self.dataset)

    def label_of(self, kind: str, first: int, second: int) -> int:
        """The label of ``first``'s half joined to ``second``'s half in composition ``kind``."""
        if first == second:
            return first
        count = self.num_identities
        return (count + self.kinds.index(kind) * count * (count - 1) + first * (count - 1)
                + (second if second < first else second - 1))

    def __getitem__(self, idx: int) -> Any:
        if not -len(self) <= idx < len(self):
            raise IndexError(f'{NAME}: index {idx} is out of range for {len(self)} samples')
        kind = self.kinds[int(torch.randint(len(self.kinds), ()))]
        first, second = (int(v) for v in torch.randint(self.num_identities, (2,)))
        samples = [self._load(identity) for identity in (first, second)]
        images = [s['img'] for s in samples]
        if images[0].shape != images[1].shape:
            raise ValueError(f'{NAME}: cannot join {origin(samples[0])} {images[0].shape} and {origin(samples[1])} '
                             f'{images[1].shape}: images must have one shape')
        pasted = pasted_region(kind, *images[0].shape[:2])
        joined = np.where(pasted.reshape(pasted.shape + (1,) * (images[0].ndim - 2)), images[1], images[0])
        result = dict(samples[0], img=joined, gt_label=self.label_of(kind, first, second),
                      composed_from=(origin(samples[0]), origin(samples[1])), composition=kind)
        return self.pipeline(result)

    def _load(self, identity: int) -> dict:
        group = self.by_identity[identity]
        index = int(group[int(torch.randint(len(group), ()))])
        sample = self.cache.get(index) if self.cache is not None else None
        if sample is None:
            sample = self.dataset[index]
            if self.cache is not None:
                self.cache[index] = sample
        if not isinstance(sample, dict) or not isinstance(sample.get('img'), np.ndarray):
            got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
            raise ValueError(f"{NAME}: the wrapped dataset's samples must hold the loaded image as 'img' (a numpy "
                             f'array; give it a pipeline that only loads, e.g. [LoadImageFromFile]); got {got}')
        return sample
