"""What the folder and list datasets share: class names, a pipeline from our registry, skipping corrupt files."""
from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..registry import TRANSFORMS
from ..transforms import CorruptImageError


def check_classes(classes: Sequence[str] | None, owner: str) -> tuple[str, ...] | None:
    """``classes`` as a tuple of unique non-empty strings (or None); ValueError says what is wrong."""
    if classes is None:
        return None
    if isinstance(classes, str) or not isinstance(classes, Sequence) or not classes:
        raise ValueError(f'{owner}: classes must be a non-empty list of class names; got {classes!r}')
    bad = [c for c in classes if not isinstance(c, str) or not c]
    if bad:
        raise ValueError(f'{owner}: classes must be non-empty strings (folder names); got {bad!r}')
    dupes = sorted({c for c in classes if list(classes).count(c) > 1})
    if dupes:
        raise ValueError(f'{owner}: classes lists {dupes} more than once')
    return tuple(classes)


def numbered_classes(metainfo: dict, num_classes: int | None, owner: str) -> int | None:
    """The class count of a list dataset whose lines carry label numbers: ``len(metainfo['classes'])`` when names are
    given (checked, and equal to ``num_classes`` if that is given too; names were silently replaced by '0'..'N-1'),
    else ``num_classes``; sets ``metainfo['classes']`` to '0'..'N-1' when only the count is known."""
    names = check_classes(metainfo.get('classes'), owner)
    if names is not None:
        if num_classes is not None and num_classes != len(names):
            raise ValueError(f'{owner}: num_classes={num_classes} but metainfo gives {len(names)} classes '
                             f'{list(names)[:10]}; give one, or make them agree')
        metainfo['classes'] = names
        return len(names)
    if num_classes is not None:
        metainfo['classes'] = tuple(str(i) for i in range(num_classes))
    return num_classes


def classes_argument(classes: Sequence[str] | None, metainfo: dict | None, owner: str) -> Sequence[str] | None:
    """``classes``, or mmpretrain's form ``metainfo=dict(classes=...)`` (it was silently replaced); both, differing,
    is an error."""
    listed = (metainfo or {}).get('classes')
    if classes is not None and listed is not None and tuple(classes) != tuple(listed):
        raise ValueError(f'{owner}: classes {list(classes)} and metainfo classes {list(listed)} differ; give one')
    return classes if classes is not None else listed


class ClassificationDataset(BaseDataset):
    """Base of the classification datasets: samples are ``dict(img_path=str, gt_label=int)`` before the pipeline.

    ``metainfo['classes']`` holds the class names (label i is ``classes[i]``). Pipeline dicts are built from
    this package's TRANSFORMS, so they resolve without a default scope.

    With ``skip_corrupt=True`` a file that cannot be decoded (see ``CorruptImageError``) is replaced by the
    next index (deterministic), logged once with ``print_log`` and listed in ``skipped_files``; the count is per
    process (each data loader worker keeps its own). With ``skip_corrupt=False`` the error names the file. Test
    sets (``test_mode=True``) cannot skip: the replacement would be scored twice.
    """

    def __init__(self, pipeline: Sequence[dict | Callable] = (), skip_corrupt: bool = False, **kwargs: Any):
        self.skip_corrupt = bool(skip_corrupt)
        if self.skip_corrupt and kwargs.get('test_mode'):  # mmengine refuses a dropped sample at test time too
            raise ValueError(f'{type(self).__name__}: skipping corrupt files (skip_corrupt / on_invalid=\'skip\') '
                             f'with test_mode=True would score the next sample in place of a bad one, counting it '
                             f'twice; leave the bad files out of the test set or let them stop the test')
        self.skipped_files: list[str] = []
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(pipeline=built, **kwargs)

    @property
    def source(self) -> str:
        """Where the samples come from (a folder or a list file), for messages."""
        return str(self.ann_file or self.data_root)

    def get_cat_ids(self, idx: int) -> list[int]:
        """The label of sample ``idx`` as a one-element list (mmengine's class-aware samplers use it)."""
        return [int(self.get_data_info(idx)['gt_label'])]

    def __getitem__(self, idx: int) -> dict:
        """Sample ``idx`` after the pipeline; with ``skip_corrupt`` a corrupt file yields the next good one."""
        length = len(self)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} is out of range for {length} samples in {self.source}')
        for step in range(length):
            try:
                return super().__getitem__((idx + step) % length)
            except CorruptImageError as err:
                if not self.skip_corrupt:
                    raise
                self._note_skipped(err)
        raise ValueError(f'every one of the {length} images in {self.source} is corrupt '
                         f'({len(self.skipped_files)} skipped); check the files')

    def _note_skipped(self, err: CorruptImageError) -> None:
        if err.path not in self.skipped_files:
            self.skipped_files.append(err.path)
            print_log(f'skip_corrupt: skipped {err} ({len(self.skipped_files)} corrupt file(s) skipped so far '
                      f'in {self.source})', logger='current', level=logging.WARNING)
