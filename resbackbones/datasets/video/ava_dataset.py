"""mmaction2's ``AVADataset``: keyframes of AVA (and MultiSports) for spatio-temporal action detection.

One sample per keyframe (``img_key`` = ``video_id,%04d``): its person boxes (relative, merged per entity into a
multi-hot label vector over ``num_classes``, column 0 unused as in mmaction2's 81-way AVA head), optionally the
detector's person proposals, and what ``SampleAVAFrames`` needs to place the clip (``timestamp``,
``timestamp_start``, ``fps``, ``shot_info``). File formats and checks: ``ava_annotations.py``.
"""
from __future__ import annotations

import os
from collections import defaultdict
from typing import Any, Callable, Sequence

import numpy as np
from mmengine.logging import print_log

from ...registry import DATASETS
from ..base import ClassificationDataset
from .ava_annotations import BoxLine, load_proposals, merge_entities, read_box_lines, read_exclusions, select_proposals
from .ava_labelmap import read_labelmap


@DATASETS.register_module()
class AVADataset(ClassificationDataset):
    """AVA keyframes with mmaction2's arguments and defaults.

    Args:
        ann_file: box csv (``ava_{train,val}_v2.x.csv``). pipeline: transform configs.
        exclude_file: csv of ``video_id,timestamp`` keyframes to leave out. label_file: the action ``.pbtxt``
            (needed with ``custom_classes``; the metric reads it for the evaluated classes).
        filename_tmpl, start_index: frame file names (``img_00001.jpg`` is frame 1 of the video folder).
        proposal_file: ``{img_key: (n, 4|5) array}`` pickle of relative person boxes (+ score).
        person_det_score_thr: proposals scored below min(this, the keyframe's best score) are dropped.
        num_classes: label vector length (AVA: 80 actions + unused column 0 = 81).
        custom_classes: train on these action ids only, renumbered 1..len (num_classes must be len + 1).
        data_prefix: dict(img=folder of the per-video frame folders, or of the videos with ``use_frames=False``).
        modality: 'RGB'. test_mode: mmengine's. num_max_proposals: proposals kept per keyframe.
        timestamp_start, timestamp_end: seconds of the video the frames cover (AVA: 900..1800, frame 1 at 900 s).
        use_frames: frame folders (``frame_dir``) or videos (``filename``; the decoder gives ``total_frames``).
        fps: frames per timestamp unit (30 for AVA seconds; 1 when timestamps count frames, MultiSports).
        multilabel: labels as multi-hot vectors (AVA, MultiSports); False: one action id per box.
        kwargs: mmengine BaseDataset options (data_root, indices, lazy_init, skip_corrupt ...).
    """

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable] = (), exclude_file: str | None = None,
                 label_file: str | None = None, filename_tmpl: str = 'img_{:05}.jpg', start_index: int = 1,
                 proposal_file: str | None = None, person_det_score_thr: float = 0.9, num_classes: int = 81,
                 custom_classes: Sequence[int] | None = None, data_prefix: dict | None = None,
                 modality: str = 'RGB', test_mode: bool = False, num_max_proposals: int = 1000,
                 timestamp_start: int = 900, timestamp_end: int = 1800, use_frames: bool = True, fps: int = 30,
                 multilabel: bool = True, **kwargs: Any):
        name = type(self).__name__
        if not 0 <= person_det_score_thr <= 1:
            raise ValueError(f'{name}: person_det_score_thr must be in [0, 1]; got {person_det_score_thr!r}')
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f'{name}: num_classes must be an integer >= 2; got {num_classes!r}')
        if modality != 'RGB':
            raise ValueError(f"{name}: modality must be 'RGB'; got {modality!r}")
        data_prefix = dict(img='') if data_prefix is None else dict(data_prefix)
        if set(data_prefix) != {'img'}:
            raise ValueError(f"{name}: data_prefix must be dict(img=folder); got {data_prefix!r}")
        self.exclude_file, self.label_file, self.proposal_file = exclude_file, label_file, proposal_file
        self.custom_classes = self._checked_custom(custom_classes, num_classes, label_file)
        self.filename_tmpl, self.start_index, self.modality = filename_tmpl, int(start_index), modality
        self.person_det_score_thr, self.num_max_proposals = float(person_det_score_thr), int(num_max_proposals)
        self.num_classes, self.timestamp_start, self.timestamp_end = num_classes, timestamp_start, timestamp_end
        self.use_frames, self.fps, self.multilabel = bool(use_frames), fps, bool(multilabel)
        self.proposals = load_proposals(proposal_file) if proposal_file is not None else None
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault('classes', tuple(str(i) for i in range(num_classes)))
        super().__init__(ann_file=ann_file, pipeline=pipeline, data_prefix=data_prefix, test_mode=test_mode,
                         metainfo=metainfo, **kwargs)

    def _checked_custom(self, custom, num_classes: int, label_file: str | None) -> list[int] | None:
        """[0] + custom_classes (index = new label), checked against num_classes and the label file."""
        if custom is None:
            return None
        name = type(self).__name__
        custom = list(custom)
        if 0 in custom or num_classes != len(custom) + 1:
            raise ValueError(f'{name}: custom_classes must not contain 0 (unused column) and num_classes must be '
                             f'len(custom_classes) + 1 = {len(custom) + 1}; got custom_classes={custom}, '
                             f'num_classes={num_classes}')
        repeated = sorted({c for c in custom if custom.count(c) > 1})
        if repeated:
            raise ValueError(f'{name}: custom_classes repeats ids {repeated}; each id gets one score column (a '
                             f'repeated one would train its second column as never present)')
        if label_file is None:
            raise ValueError(f'{name}: custom_classes needs label_file (the ids are checked against it)')
        unknown = sorted(set(custom) - read_labelmap(label_file)[1])
        if unknown:
            raise ValueError(f'{name}: custom_classes {unknown} are not ids of {label_file}')
        return [0] + custom

    def label_of(self, line: BoxLine) -> int | None:
        """The line's label as trained on (renumbered with custom_classes; None: not a custom class)."""
        if self.custom_classes is not None:
            return self.custom_classes.index(line.label) if line.label in self.custom_classes[1:] else None
        # AVA's ids start at 1 (column 0 unused: BBoxHeadAVA(background_class=True) refuses it there); MultiSports'
        # start at 0 with background_class=False. So 0 is the head's to judge, as in mmaction2.
        if not 0 <= line.label < self.num_classes:
            raise ValueError(f'{type(self).__name__}: {line.where}: action {line.label} is outside '
                             f'0..{self.num_classes - 1} (num_classes={self.num_classes})')
        return line.label

    def shot_of(self, video_id: str) -> tuple[int, int] | None:
        """Frame range a clip is clipped to: the frames of (timestamp_end - timestamp_start); videos: decoded."""
        return (0, (self.timestamp_end - self.timestamp_start) * self.fps) if self.use_frames else None

    def load_data_list(self) -> list[dict]:
        by_key: dict[str, list[BoxLine]] = defaultdict(list)
        for line in read_box_lines(self.ann_file):
            label = self.label_of(line)
            if label is not None:
                by_key[f'{line.video_id},{line.timestamp:04d}'].append(line._replace(label=label))
        data = []
        for img_key, lines in by_key.items():
            video_id, timestamp = lines[0].video_id, lines[0].timestamp
            path = os.path.join(self.data_prefix['img'], video_id) if self.data_prefix['img'] else video_id
            item = dict(video_id=video_id, timestamp=timestamp, img_key=img_key, shot_info=self.shot_of(video_id),
                        fps=self.fps, **merge_entities(lines, self.num_classes, self.multilabel))
            item['frame_dir' if self.use_frames else 'filename'] = path
            data.append(item)
        return data

    def filter_data(self) -> list[dict]:
        """The keyframes not listed in ``exclude_file``."""
        if self.exclude_file is None:
            return self.data_list
        excluded = read_exclusions(self.exclude_file)
        kept = [d for d in self.data_list if (d['video_id'], d['timestamp']) not in excluded]
        print_log(f'{len(kept)} out of {len(self.data_list)} frames are valid.', logger='current')
        return kept

    def timestamps_of(self, info: dict) -> tuple[int, int]:
        return self.timestamp_start, self.timestamp_end

    def proposal_key(self, img_key: str) -> str:
        return img_key

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.update(modality=self.modality, start_index=self.start_index, filename_tmpl=self.filename_tmpl)
        info['timestamp_start'], info['timestamp_end'] = self.timestamps_of(info)
        if self.proposals is not None:
            boxes, scores = select_proposals(self.proposals, self.proposal_key(info['img_key']),
                                             self.person_det_score_thr, self.num_max_proposals, self.proposal_file)
            info['proposals'] = boxes
            if scores is not None:
                info['scores'] = scores
        return info

    def get_cat_ids(self, idx: int) -> list[int]:
        """The actions of the keyframe's boxes (for class-aware samplers)."""
        labels = self.get_data_info(idx)['gt_labels']
        return sorted(set(np.flatnonzero(labels.sum(0)).tolist() if self.multilabel else labels.ravel().tolist()))
