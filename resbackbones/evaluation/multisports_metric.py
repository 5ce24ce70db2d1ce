"""mmaction2's ``MultiSportsMetric``: frame mAP and video mAP (over linked tubes) of MultiSports action detections.

Each prediction is one frame (``video_id``, ``timestamp`` = frame number) with boxes (0..1 of the frame) and
softmax scores over the classes; each box counts once, for its best class with that score, scaled to pixels by the
video's resolution in the GT pickle (mmaction2's ``multisports_GT.pkl``, read through the restricted unpickler).
Reports 'frameAP' (at ``F_mAP.thr``), 'v_map@<thr>' for each ``V_mAP.thr`` and, with ``V_mAP.all``, the means over
IoU 0.05:0.45, 0.10:0.90 and 0.50:0.95 (videoAP_all's keys); percentages rounded to 4 decimals, as mmaction2.

mmaction2 scores every box it links into tubes with one number: the score of the last detection of the whole
evaluation (a typo in its ``Dataset.get_vid_dets``), so its video mAP depends on the order predictions come in.
``link_scores='mmaction2'`` (the default) reproduces that for mmaction2's numbers; ``'own'`` links each box with
its own score.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from ..datasets.restricted_pickle import NUMPY_ARRAYS, load_restricted
from ..registry import METRICS
from .ava_metric import as_numpy
from .multisports_ap import ALL_THRESHOLDS, frame_ap, link_tubes, mean_ap, video_ap

GT_KEYS = ('labels', 'test_videos', 'gttubes', 'nframes', 'resolution')
DEFAULT_OPTIONS = dict(F_mAP=dict(thr=0.5), V_mAP=dict(thr=(0.2, 0.5), all=True, tube_thr=15))


def read_gt(path: str) -> dict:
    """The GT pickle, checked: labels (class names), test_videos[0] (video names), gttubes {video: {label:
    [(n, 5) frame, x1, y1, x2, y2 arrays]}} for every test video, nframes and resolution ((h, w)) per video."""
    gt = load_restricted(path, NUMPY_ARRAYS, 'a MultiSports GT pickle', 'MultiSports ground truth is dicts, lists '
                         'and numpy arrays', encoding='latin1')
    missing = [k for k in GT_KEYS if not isinstance(gt, dict) or k not in gt]
    if missing:
        raise ValueError(f'MultiSportsMetric: ann_file {path} lacks {missing} (expected a dict with {list(GT_KEYS)}, '
                         f'mmaction2\'s multisports_GT.pkl)')
    labels, splits = gt['labels'], gt['test_videos']
    if not isinstance(labels, (list, tuple)) or not all(isinstance(n, str) for n in labels):
        raise ValueError(f"MultiSportsMetric: ann_file {path}: 'labels' must be a list of class names")
    if not isinstance(splits, (list, tuple)) or not splits or not isinstance(splits[0], (list, tuple)):
        raise ValueError(f"MultiSportsMetric: ann_file {path}: 'test_videos' must be a list whose first entry lists "
                         'the test videos')
    videos = list(splits[0])
    if len(set(videos)) != len(videos):
        raise ValueError(f"MultiSportsMetric: ann_file {path}: 'test_videos'[0] lists a video twice")
    for key in ('gttubes', 'nframes', 'resolution'):
        if not isinstance(gt[key], dict):
            raise ValueError(f"MultiSportsMetric: ann_file {path}: {key!r} must be a dict by video")
    for video in videos:
        tubes = gt['gttubes'].get(video)
        if not isinstance(tubes, dict):
            raise ValueError(f"MultiSportsMetric: ann_file {path}: 'gttubes' has no dict of tubes by label for test "
                             f'video {video!r}')
        for label, group in tubes.items():
            bad = [np.shape(t) for t in group if np.ndim(t) != 2 or np.shape(t)[1] != 5]
            if bad or not isinstance(label, numbers.Integral):
                raise ValueError(f"MultiSportsMetric: ann_file {path}: 'gttubes'[{video!r}][{label!r}] must be "
                                 f'(n, 5) frame, x1, y1, x2, y2 arrays under an integer label; got shapes {bad}')
    return dict(gt, test_videos=[videos])


@METRICS.register_module()
class MultiSportsMetric(BaseMetric):
    """Frame and video mAP of MultiSports action detections (mmaction2's arguments, keys and numbers).

    Args:
        ann_file: mmaction2's ``multisports_GT.pkl``.
        metric_options: ``F_mAP.thr`` (frame IoU threshold), ``V_mAP.thr`` (video IoU thresholds), ``V_mAP.all``
            (also videoAP_all's means), ``V_mAP.tube_thr`` (shortest tube kept, frames).
        verbose: log the per-class APs.
        link_scores: 'mmaction2' (every linked box scored as the last detection, mmaction2's numbers) or 'own'.
    """

    default_prefix = 'mAP'

    def __init__(self, ann_file: str, metric_options: dict | None = None, collect_device: str = 'cpu',
                 verbose: bool = True, prefix: str | None = None, link_scores: str = 'mmaction2'):
        super().__init__(collect_device=collect_device, prefix=prefix)
        options = DEFAULT_OPTIONS if metric_options is None else metric_options
        try:
            self.frame_thr = float(options['F_mAP']['thr'])
            thr = options['V_mAP']['thr']
            self.video_thrs = [float(t) for t in ([thr] if isinstance(thr, numbers.Real) else thr)]
            self.tube_thr, self.all = int(options['V_mAP']['tube_thr']), bool(options['V_mAP'].get('all'))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f'MultiSportsMetric: metric_options must be like {DEFAULT_OPTIONS} (numbers); got '
                             f'{metric_options!r} ({type(err).__name__}: {err})') from None
        if link_scores not in ('mmaction2', 'own'):
            raise ValueError(f"MultiSportsMetric: link_scores must be 'mmaction2' or 'own'; got {link_scores!r}")
        self.metric_options, self.verbose, self.link_scores = options, verbose, link_scores
        self.ann_file, self.annos = ann_file, read_gt(ann_file)
        self.videos = self.annos['test_videos'][0]
        self.index = {v: i for i, v in enumerate(self.videos)}

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Keep each box as a row [video index, frame, best class, its score, x1, y1, x2, y2 in pixels]."""
        labels = self.annos['labels']
        for i, sample in enumerate(data_samples):
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = sample.get('pred_instances') if isinstance(sample, dict) else None
            if isinstance(pred, BaseDataElement):
                pred = pred.to_dict()
            if not isinstance(pred, dict) or not {'bboxes', 'scores'} <= set(pred) or not {'video_id',
                                                                                            'timestamp'} <= set(sample):
                raise ValueError(f"MultiSportsMetric: prediction {i} needs 'video_id', 'timestamp' and "
                                 "'pred_instances' with 'bboxes' and 'scores'")
            video = str(sample['video_id']).split('.mp4')[0]
            frame = f"video {video!r} timestamp {sample['timestamp']!r}"
            if video not in self.index:
                raise ValueError(f"MultiSportsMetric: {frame} is not among the test videos ('test_videos'[0]) of "
                                 f'ann_file {self.ann_file}')
            try:
                timestamp = int(sample['timestamp'])
                whole = bool(timestamp == sample['timestamp'])
            except (TypeError, ValueError, RuntimeError):
                whole = False
            if not whole:
                raise ValueError(f'MultiSportsMetric: timestamp of {frame} must be an integer frame number')
            bboxes, scores = as_numpy(pred['bboxes']), as_numpy(pred['scores'])
            if bboxes.ndim != 2 or bboxes.shape[1] != 4 or not np.issubdtype(bboxes.dtype, np.floating):
                raise ValueError(f"MultiSportsMetric: pred_instances['bboxes'] of {frame} must be a float (P, 4) "
                                 f'array of x1, y1, x2, y2; got {bboxes.dtype} {tuple(bboxes.shape)}')
            if scores.shape != (len(bboxes), len(labels)) or not np.issubdtype(scores.dtype, np.floating):
                raise ValueError(f"MultiSportsMetric: pred_instances['scores'] of {frame} must be a float (P, "
                                 f'classes) = {(len(bboxes), len(labels))} array ({len(labels)} labels in ann_file); '
                                 f'got {scores.dtype} {tuple(scores.shape)}')
            try:
                h, w = self.annos['resolution'][video]
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"MultiSportsMetric: ann_file {self.ann_file}: 'resolution' lacks (h, w) of video "
                                 f'{video!r}') from None
            best = scores.argmax(axis=1)
            pixels = (bboxes * np.array([w, h, w, h])).astype(bboxes.dtype)  # mmaction2 scales in place
            rows = np.empty((len(bboxes), 8))
            rows[:, 0], rows[:, 1], rows[:, 2] = self.index[video], timestamp, best
            rows[:, 3], rows[:, 4:] = scores[np.arange(len(best)), best], pixels
            self.results.append(rows)

    def compute_metrics(self, results: list) -> dict[str, float]:
        if not results:
            raise ValueError('MultiSportsMetric: no predictions were processed (is the evaluation dataset empty?)')
        gt, labels = self.annos['gttubes'], self.annos['labels']
        dets = np.concatenate(results).reshape(-1, 8)
        nframes = self.check_frames(dets)
        out = {'frameAP': self.logged(frame_ap(gt, self.videos, labels, dets, self.frame_thr),
                                      f'frameAP_{self.frame_thr}')}
        if len(dets) and self.link_scores == 'mmaction2':
            dets = dets.copy()
            dets[:, 3] = dets[-1, 3]
        tubes = link_tubes(self.videos, nframes, len(labels), dets, self.tube_thr)
        for thr, aps in zip(self.video_thrs, video_ap(gt, self.videos, labels, tubes, self.video_thrs)):
            out[f'v_map@{thr}'] = self.logged(aps, f'VideoAP_{thr}')
        if self.all:
            for key, thrs in ALL_THRESHOLDS:
                total = 0
                for aps in video_ap(gt, self.videos, labels, tubes, thrs):
                    total += mean_ap(aps)
                out[key] = total / float(len(thrs))
        return {k: float(round(np.float64(v), 4)) for k, v in out.items()}  # numpy's round, as mmaction2

    def check_frames(self, dets: np.ndarray) -> dict:
        """{video: nframes} of the videos predicted, every predicted frame in 1..nframes."""
        nframes = {}
        for vi in np.unique(dets[:, 0]).astype(int).tolist():
            video = self.videos[vi]
            try:
                nframes[video] = int(self.annos['nframes'][video])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"MultiSportsMetric: ann_file {self.ann_file}: 'nframes' lacks the frame count of "
                                 f'video {video!r}') from None
            frames = dets[dets[:, 0] == vi, 1]
            if frames.min() < 1 or frames.max() > nframes[video]:
                raise ValueError(f'MultiSportsMetric: video {video!r} has predictions at frames {frames.min():.0f}.. '
                                 f'{frames.max():.0f}, outside its 1..{nframes[video]} (ann_file {self.ann_file})')
        return nframes

    def logged(self, aps: dict, title: str) -> float:
        """The mean of ``aps``, logging them when verbose."""
        value = mean_ap(aps)
        if self.verbose:
            rows = [f'{name:20s} {ap:8.2f}' for name, ap in aps.items()] + [f'{"mAP":20s} {value:8.2f}']
            print_log(f'MultiSportsMetric: {title}\n' + '\n'.join(rows), logger='current')
        return value
