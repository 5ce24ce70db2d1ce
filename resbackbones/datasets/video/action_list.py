"""What the video and rawframe list datasets share: parsing ``... label [label ...]`` lines, labels, skipping."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from ...transforms import CorruptImageError
from ..base import ClassificationDataset, numbered_classes

ON_INVALID = ('raise', 'skip')


def read_lines(ann_file: str, owner: str, delimiter: str | None = None) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line, split on whitespace (``delimiter`` None or ' ') or on
    ``delimiter`` (fields stripped); errors name the file."""
    if not os.path.isfile(ann_file):
        raise FileNotFoundError(f'{owner}: ann_file {ann_file} does not exist')
    try:
        with open(ann_file, encoding='utf-8-sig') as f:  # a byte-order mark is no part of the first path
            lines = f.read().splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f'{owner}: ann_file {ann_file} is not UTF-8 text: {err}') from err
    whitespace = delimiter in (None, ' ')
    rows = [(n, line.split() if whitespace else [f.strip() for f in line.strip().split(delimiter)])
            for n, line in enumerate(lines, 1) if line.strip()]
    if not rows:
        raise ValueError(f'{owner}: ann_file {ann_file} lists no samples')
    return rows


def check_relative_path(path: str, ann_file: str, line: int) -> str:
    """``path`` (a list entry) when it stays under the folder it is relative to; ValueError naming the line for an
    absolute path or one with '..' (a tool writing outputs beside it would write outside its output folder)."""
    if os.path.isabs(path) or '..' in path.replace('\\', '/').split('/'):
        raise ValueError(f"{ann_file}, line {line}: {path!r} must be a path under SRC_FOLDER, without a leading '/' "
                         f"or '..'")
    return path


def check_distinct_outputs(rows: Sequence[tuple[int, str]], ann_file: str) -> None:
    """ValueError naming both lines when two list entries, as (line number, output name), would write one output
    (``a.mp4`` and ``a.avi`` both become ``a``, or a line given twice): the second overwrote the first's files and
    both lines were listed, with their own labels."""
    first: dict[str, int] = {}
    for line, name in rows:
        if name in first:
            raise ValueError(f'{ann_file}, lines {first[name]} and {line}: both write {name!r}; give each video one '
                             f'line and a name of its own')
        first[name] = line


class ActionListDataset(ClassificationDataset):
    """Base of ``VideoDataset`` and ``RawframeDataset`` (mmaction2's list formats and argument names).

    Args:
        ann_file: the list. data_prefix: folder the listed paths are relative to (a path or mmaction2's dict).
        pipeline: transform configs or callables. num_classes: labels must be below it (also sets the class names
            '0'..'num_classes-1'; default: the largest label + 1). multi_class: lines carry several labels; a
            sample's ``label`` is then a multi-hot float32 vector of num_classes (mmaction2's one-hot), so batches
            collate and the recognizers' BCE loss and ``mean_average_precision`` read it.
        start_index: index of the first frame (0 for videos, 1 for rawframes: mmaction2's defaults).
        modality: 'RGB', or 'Flow' for rawframe folders of optical flow (``RawframeDataset``): x and y images per
            frame, which the pipeline keeps as 2-channel frames.
        on_invalid: 'raise' stops at an unreadable sample (corrupt, missing, a folder) naming its file and its list
            line; 'skip' replaces it by the next sample, logs it and counts it in ``skipped_files`` (per process).
        kwargs: mmengine BaseDataset options (data_root, test_mode, indices, lazy_init).
    """

    prefix_key = 'video'  # mmaction2's data_prefix key
    modalities: tuple[str, ...] = ('RGB',)  # a video file holds RGB frames; rawframe folders may hold flow

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable] = (), data_prefix: str | dict | None = None,
                 num_classes: int | None = None, multi_class: bool = False, start_index: int = 0,
                 modality: str = 'RGB', on_invalid: str = 'raise', **kwargs: Any):
        name = type(self).__name__
        if on_invalid not in ON_INVALID:
            raise ValueError(f'{name}: on_invalid must be one of {ON_INVALID}; got {on_invalid!r}')
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError(f'{name}: num_classes must be an integer >= 1; got {num_classes!r}')
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        num_classes = numbered_classes(metainfo, num_classes, name)
        if multi_class and num_classes is None:
            raise ValueError(f'{name}: multi_class=True needs num_classes (the length of the multi-hot label)')
        if modality not in self.modalities:
            raise ValueError(f'{name}: modality must be one of {self.modalities}; got {modality!r}')
        if isinstance(data_prefix, dict) and set(data_prefix) - {self.prefix_key}:
            # another key (mmaction2's 'img' for rawframes given to a video list) left every path unprefixed
            raise ValueError(f'{name}: data_prefix must be a folder or dict({self.prefix_key}=folder); got keys '
                             f'{sorted(data_prefix)}')
        prefix = data_prefix.get(self.prefix_key, '') if isinstance(data_prefix, dict) else data_prefix
        if not isinstance(prefix, str | None):
            raise ValueError(f"{name}: data_prefix must be a folder or dict({self.prefix_key}=folder); got "
                             f'{data_prefix!r}')
        self.num_classes, self.multi_class, self.start_index = num_classes, bool(multi_class), int(start_index)
        self.modality = modality
        super().__init__(ann_file=ann_file, data_prefix={self.prefix_key: prefix or ''}, pipeline=pipeline,
                         skip_corrupt=on_invalid == 'skip', metainfo=metainfo, **kwargs)

    @property
    def prefix(self) -> str:
        return self.data_prefix[self.prefix_key]

    def parse_labels(self, fields: list[str], where: str) -> int | list[int]:
        """The label (or labels with multi_class) from a line's trailing fields; ValueError names the line."""
        name = type(self).__name__
        if not fields:
            raise ValueError(f'{name}: {where}: the line has no label (expected {self.line_format})')
        if not self.multi_class and len(fields) > 1:
            raise ValueError(f'{name}: {where}: {len(fields)} labels {fields} but multi_class=False (expected '
                             f'{self.line_format})')
        labels = []
        for text in fields:
            try:
                labels.append(int(text))
            except ValueError:
                raise ValueError(f'{name}: {where}: label must be an integer, got {text!r}') from None
            if labels[-1] < 0 or (self.num_classes is not None and labels[-1] >= self.num_classes):
                limit = f'0..{self.num_classes - 1} (num_classes={self.num_classes})' if self.num_classes else '>= 0'
                raise ValueError(f'{name}: {where}: label {labels[-1]} is out of range; expected {limit}')
        return labels if self.multi_class else labels[0]

    def finish(self, data_list: list[dict]) -> list[dict]:
        """Class names from the largest label when num_classes was not given; start_index on every sample."""
        if self.num_classes is None:
            top = max(max(d['label']) if isinstance(d['label'], list) else d['label'] for d in data_list)
            self._metainfo['classes'] = tuple(str(i) for i in range(top + 1))
            self._metainfo['classes_from_labels'] = True  # numbers, not names: another list may have more
        for item in data_list:
            item.update(start_index=self.start_index, modality=self.modality, gt_label=item['label'])
        return data_list

    def __getitem__(self, idx: int) -> dict:
        try:
            return super().__getitem__(idx)
        except CorruptImageError as err:  # only with on_invalid='raise' (skipping catches it first)
            line = self.get_data_info(idx).get('list_line')
            if line is not None:  # the same error, so callers catching its type still do; now with the line
                err.args = (f'{err} (listed in {self.ann_file}, line {line})',)
            raise

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if self.multi_class:
            hot = np.zeros(self.num_classes, dtype=np.float32)
            hot[info['label']] = 1
            info['label'] = info['gt_label'] = hot
        return info

    def get_cat_ids(self, idx: int) -> list[int]:
        label = self.get_data_info(idx)['label']
        return np.flatnonzero(label).tolist() if self.multi_class else [int(label)]
