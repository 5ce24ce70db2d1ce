"""mmpretrain's list format: one ``relative/path.png LABEL`` line per image, paths under ``data_prefix``."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ..registry import DATASETS
from .base import ClassificationDataset, check_classes, classes_argument

NAME = 'AnnotationListDataset'


def parse_list(ann_file: str, num_classes: int | None = None) -> list[tuple[str, int]]:
    """(relative path, label) per non-blank line; ValueError names the file and line of a bad entry.

    A path may contain spaces: the label is the last field. Labels must be integers in 0..num_classes-1.
    """
    if not os.path.isfile(ann_file):
        raise FileNotFoundError(f'{NAME}: ann_file {ann_file} does not exist')
    entries = []
    try:
        with open(ann_file, encoding='utf-8-sig') as f:  # a BOM (Windows editors) is not part of the first path
            lines = f.read().splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f'{NAME}: ann_file {ann_file} is not UTF-8 text: {err}') from err
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        parts = text.rsplit(maxsplit=1)
        where = f'{ann_file}, line {lineno}'
        if len(parts) != 2:
            raise ValueError(f"{NAME}: {where}: expected 'relative/path.png LABEL', got {text!r}")
        path, label_text = parts
        try:
            label = int(label_text)
        except ValueError:
            raise ValueError(f'{NAME}: {where}: label must be an integer, got {label_text!r}') from None
        if label < 0 or (num_classes is not None and label >= num_classes):
            limit = f'0..{num_classes - 1} (classes has {num_classes} names)' if num_classes else '>= 0'
            raise ValueError(f'{NAME}: {where}: label {label} is out of range; expected {limit}')
        entries.append((path, label))
    if not entries:
        raise ValueError(f'{NAME}: ann_file {ann_file} lists no images')
    return entries


@DATASETS.register_module()
class AnnotationListDataset(ClassificationDataset):
    """Images listed in ``ann_file`` as ``relative/path.png LABEL`` lines, paths relative to ``data_prefix``.

    Args:
        ann_file: the list file (relative paths join onto ``data_root`` when given).
        data_prefix: folder the listed paths are relative to: a path, or mmengine's ``dict(img_path=path)``.
        pipeline: transform configs or callables.
        classes: class names, label i -> classes[i]; labels beyond it are an error. Default: '0'..'max label'.
        skip_corrupt: skip undecodable images instead of raising (see ClassificationDataset).
        kwargs: other mmengine BaseDataset options (data_root, lazy_init, test_mode, indices).
    """

    def __init__(self, ann_file: str, data_prefix: str | dict, pipeline: Sequence[dict | Callable] = (),
                 classes: Sequence[str] | None = None, skip_corrupt: bool = False, **kwargs: Any):
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        if not isinstance(data_prefix, dict) or not isinstance(data_prefix.get('img_path'), str):
            raise ValueError(f"{NAME}: data_prefix must be a folder path or dict(img_path=folder); got {data_prefix!r}")
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        self._given_classes = check_classes(classes_argument(classes, metainfo, NAME), NAME)
        if self._given_classes is not None:
            metainfo['classes'] = self._given_classes
        super().__init__(ann_file=ann_file, data_prefix=dict(data_prefix), pipeline=pipeline,
                         skip_corrupt=skip_corrupt, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Parse the list; the image folder must exist (single files are checked when loaded)."""
        prefix = self.data_prefix['img_path']
        if prefix and not os.path.isdir(prefix):
            raise FileNotFoundError(f'{NAME}: data_prefix {prefix} is not a folder (paths in {self.ann_file} are '
                                    f'relative to it)')
        num = len(self._given_classes) if self._given_classes is not None else None
        entries = parse_list(self.ann_file, num)
        if self._given_classes is None:
            self._metainfo['classes'] = tuple(str(i) for i in range(max(label for _, label in entries) + 1))
            self._metainfo['classes_from_labels'] = True  # numbers, not names: another list may have more
        return [dict(img_path=os.path.join(prefix, path), gt_label=label) for path, label in entries]
