"""mmaction2's ``PoseDataset``: skeleton sequences from its annotation pickles, for PoseC3D.

The file is ``dict(split=dict(name=[ids]), annotations=[...])`` (or a bare list of annotations), one annotation per
video: ``frame_dir`` (or ``filename``) as its id, ``label``, ``img_shape`` (h, w), ``total_frames``, ``keypoint``
(M, T, V, 2) and ``keypoint_score`` (M, T, V); Kinetics-skeleton keeps the keypoints of each video in its own
pickle under ``data_prefix=dict(skeleton=folder)`` (``<id>.pkl``) with per-box ``box_score`` for ``box_thr``.
Pickles are read through a restricted unpickler (dicts, lists, strings, numbers, numpy arrays only), so a crafted
annotation file cannot run code; mmaction2 reads them with plain ``pickle.load``.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import numpy as np

from ...registry import DATASETS
from ...transforms.video.keypoints import THREE_D_HINT
from ..base import ClassificationDataset, numbered_classes
from ..restricted_pickle import NUMPY_ARRAYS, load_restricted

BOX_THRESHOLDS = (.5, .6, .7, .8, .9)  # the thresholds mmaction2's Kinetics-skeleton files count ``valid`` frames at
ALLOWED = NUMPY_ARRAYS | {('collections', 'OrderedDict'), ('builtins', 'set'), ('builtins', 'frozenset')}
HOLDS = 'an mmaction2 skeleton annotation holds dicts, lists, strings, numbers and numpy arrays'


def load_annotations(path: str) -> Any:
    return load_restricted(path, ALLOWED, 'an mmaction2 skeleton annotation pickle', HOLDS, encoding='latin1')


@DATASETS.register_module()
class PoseDataset(ClassificationDataset):
    """Skeleton clips for PoseC3D with mmaction2's arguments.

    Args:
        ann_file: the annotation pickle. pipeline: transform configs (UniformSampleFrames, PoseDecode, ...).
        split: which list of the file's ``split`` dict to use (NTU: 'xsub_train', 'xsub_val', ...; UCF-101 /
            HMDB-51: 'train1', 'test1', ...); None: every annotation.
        valid_ratio: Kinetics-skeleton only: keep videos where at least this fraction of frames has a person box
            scored >= box_thr. box_thr: one of 0.5 .. 0.9; boxes below it are dropped (``anno_inds``).
        data_prefix: dict(skeleton=folder) for per-video keypoint pickles; dict(video=folder) prefixes ids.
        num_classes: labels must be below it (also sets class names '0'..; default: the largest label + 1).
        kwargs: mmengine BaseDataset options (test_mode, indices, lazy_init, ...).
    """

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable] = (), split: str | None = None,
                 valid_ratio: float | None = None, box_thr: float = 0.5, data_prefix: dict | None = None,
                 num_classes: int | None = None, start_index: int = 0, **kwargs: Any):
        if box_thr not in BOX_THRESHOLDS:
            raise ValueError(f'PoseDataset: box_thr must be one of {BOX_THRESHOLDS}; got {box_thr!r}')
        if valid_ratio is not None and not (isinstance(valid_ratio, (int, float)) and 0 <= valid_ratio <= 1):
            raise ValueError(f'PoseDataset: valid_ratio must be a fraction in [0, 1] or None; got {valid_ratio!r}')
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError(f'PoseDataset: num_classes must be an integer >= 1; got {num_classes!r}')
        if data_prefix is not None and not (isinstance(data_prefix, dict)
                                            and set(data_prefix) <= {'skeleton', 'video'}):
            raise ValueError(f"PoseDataset: data_prefix must be dict(skeleton=folder) and/or dict(video=folder); got "
                             f'{data_prefix!r}')
        self.split, self.valid_ratio, self.box_thr = split, valid_ratio, box_thr
        self.num_classes, self.start_index = num_classes, int(start_index)
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        self.num_classes = numbered_classes(metainfo, num_classes, 'PoseDataset')
        super().__init__(ann_file=ann_file, pipeline=pipeline, data_prefix=dict(data_prefix or {}),
                         metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        content = load_annotations(self.ann_file)
        annotations = content.get('annotations') if isinstance(content, dict) else content
        if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            raise ValueError(f"PoseDataset: {self.ann_file} must hold a list of annotation dicts or dict(split=..., "
                             f"annotations=[...]); got {type(content).__name__}")
        if self.split is not None:
            splits = content.get('split') if isinstance(content, dict) else None
            if not isinstance(splits, dict) or self.split not in splits:
                have = sorted(splits) if isinstance(splits, dict) else 'no split dict'
                raise ValueError(f'PoseDataset: split {self.split!r} is not in {self.ann_file} (it has: {have})')
            keep = set(splits[self.split])
            annotations = [a for a in annotations if a.get('filename', a.get('frame_dir')) in keep]
        data_list = [self._checked(dict(a), n) for n, a in enumerate(annotations)]
        if self.valid_ratio:
            data_list = [a for a in data_list if a['valid'][self.box_thr] / a['total_frames'] >= self.valid_ratio]
        if not data_list:
            raise ValueError(f'PoseDataset: no annotation of {self.ann_file} is left (split={self.split!r}, '
                             f'valid_ratio={self.valid_ratio})')
        if self.num_classes is None:
            self._metainfo['classes'] = tuple(str(i) for i in range(max(a['label'] for a in data_list) + 1))
            self._metainfo['classes_from_labels'] = True  # numbers, not names: a split may lack the top label
        return data_list

    def _checked(self, item: dict, index: int) -> dict:
        """An annotation with its label and keypoint shapes checked; errors name the file and the sample."""
        ident = item.get('filename', item.get('frame_dir'))
        where = f'{self.ann_file}: annotation {index} ({ident!r})'
        label = item.get('label')
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
            raise ValueError(f'PoseDataset: {where} has label {label!r}; expected an integer >= 0')
        if self.num_classes is not None and label >= self.num_classes:
            raise ValueError(f'PoseDataset: {where} has label {label}; expected 0..{self.num_classes - 1} '
                             f'(num_classes={self.num_classes})')
        if ident is None:
            raise ValueError(f'PoseDataset: {where} has neither frame_dir nor filename (its id)')
        if 'skeleton' not in self.data_prefix:  # keypoints inline (NTU, GYM, UCF-101, HMDB-51)
            self._check_keypoints(item, where)
        if self.valid_ratio:
            if 'box_score' not in item or not isinstance(item.get('valid'), dict):
                raise ValueError(f'PoseDataset: {where}: valid_ratio needs the box_score and valid fields of '
                                 f'Kinetics-skeleton annotations')
            item['anno_inds'] = np.asarray(item['box_score']) >= self.box_thr
        if 'video' in self.data_prefix:
            for key in ('filename', 'frame_dir'):
                if key in item:
                    item[key] = os.path.join(self.data_prefix['video'], item[key])
        item.update(label=int(label), gt_label=int(label), start_index=self.start_index, modality='Pose')
        return item

    @staticmethod
    def _check_keypoints(item: dict, where: str) -> None:
        kp, score = item.get('keypoint'), item.get('keypoint_score')
        if not isinstance(kp, np.ndarray) or kp.ndim != 4 or kp.shape[-1] != 2:
            got = getattr(kp, 'shape', type(kp).__name__)
            raise ValueError(f'PoseDataset: {where}: keypoint must be a (persons, frames, joints, 2) array of image '
                             f"x, y; got {got}{THREE_D_HINT if getattr(kp, 'shape', ())[-1:] == (3,) else ''}")
        total = item.setdefault('total_frames', kp.shape[1])
        if total != kp.shape[1]:
            raise ValueError(f'PoseDataset: {where}: total_frames={total} but keypoint has {kp.shape[1]} frames')
        if score is not None and (not isinstance(score, np.ndarray) or score.shape != kp.shape[:3]):
            raise ValueError(f'PoseDataset: {where}: keypoint_score must be (persons, frames, joints) = '
                             f"{kp.shape[:3]}; got {getattr(score, 'shape', type(score).__name__)}")
        if 'img_shape' not in item:
            raise ValueError(f'PoseDataset: {where}: img_shape (height, width of the frames) is missing')

    def get_data_info(self, idx: int) -> dict:
        """The annotation; with data_prefix skeleton, its keypoints read from ``<skeleton>/<id>.pkl``."""
        info = super().get_data_info(idx)
        if 'skeleton' in self.data_prefix:
            ident = info.get('filename', info.get('frame_dir'))
            path = os.path.join(self.data_prefix['skeleton'], f'{ident}.pkl')
            skeleton = load_annotations(path)
            if not isinstance(skeleton, dict):
                raise ValueError(f'PoseDataset: {path} must hold a dict of keypoint fields; got '
                                 f'{type(skeleton).__name__}')
            info.update(skeleton)
        return info
