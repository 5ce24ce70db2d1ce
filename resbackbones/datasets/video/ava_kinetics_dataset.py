"""mmaction2's ``AVAKineticsDataset``: AVA keyframes plus Kinetics clips annotated the AVA way (AVA-Kinetics).

An AVA video id is 11 characters and covers ``timestamp_start..timestamp_end``; a Kinetics clip is named
``<youtube_id>_<start>_<end>`` and covers its own seconds, frames counted from 1 (shot (1, (end - start) x fps + 1)).
Proposals of a clip are stored under its YouTube id (``<youtube_id>,%04d``).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ...registry import DATASETS
from .ava_dataset import AVADataset


@DATASETS.register_module()
class AVAKineticsDataset(AVADataset):
    """AVA-Kinetics keyframes; mmaction2's arguments (``exclude_file`` and ``label_file`` required, frames from
    ``start_index=0``; always rawframes and multi-hot labels).

    mmaction2 gives every keyframe the frame range of the csv's last line (a loop variable left over); here each
    keyframe gets its own video's range, which is what its first loop computes per line.
    """

    def __init__(self, ann_file: str, exclude_file: str | None, pipeline: Sequence[dict | Callable],
                 label_file: str | None, filename_tmpl: str = 'img_{:05}.jpg', start_index: int = 0, **kwargs: Any):
        for fixed in ('use_frames', 'multilabel'):
            if fixed in kwargs:
                raise ValueError(f'AVAKineticsDataset: {fixed} is not an argument (always rawframes, multi-hot '
                                 f'labels)')
        super().__init__(ann_file=ann_file, pipeline=pipeline, exclude_file=exclude_file, label_file=label_file,
                         filename_tmpl=filename_tmpl, start_index=start_index, **kwargs)

    def clip_seconds(self, video_id: str) -> tuple[int, int]:
        """(start, end) seconds a video's frames cover: AVA's range for an 11-character id, else its name's."""
        parts = video_id.split('_')
        if len(video_id) == 11 or len(parts) < 3:
            return self.timestamp_start, self.timestamp_end
        try:
            return int(parts[-2]), int(parts[-1])
        except ValueError:
            raise ValueError(f'AVAKineticsDataset: {self.ann_file}: video id {video_id!r} is neither an 11-character '
                             f'AVA id nor <youtube_id>_<start>_<end>') from None

    def shot_of(self, video_id: str) -> tuple[int, int]:
        start, end = self.clip_seconds(video_id)
        return 1, (end - start) * self.fps + 1

    def timestamps_of(self, info: dict) -> tuple[int, int]:
        return self.clip_seconds(info['video_id'])

    def proposal_key(self, img_key: str) -> str:
        if len(img_key) == 16:  # an AVA id (11) + ',' + 4 digits
            return img_key
        video_id, timestamp = img_key.split(',')
        return f"{'_'.join(video_id.split('_')[:-2])},{int(timestamp):04d}"
