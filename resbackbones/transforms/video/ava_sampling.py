"""mmaction2's ``SampleAVAFrames``: the clip around an AVA keyframe.

The keyframe at ``timestamp`` (seconds, or frames with ``fps=1``) is frame ``fps x (timestamp - timestamp_start) +
start_index``; the clip takes ``clip_len`` frames ``frame_interval`` apart, half before it (``clip_len // 2``) and
half from it on. In training every index moves by its own random offset in [-interval // 2, (interval + 1) // 2),
drawn from numpy's global generator (also in test mode, unused, so the generator advances as in mmaction2).
Indices are clipped to the shot (``total_frames`` of a decoded video, else the dataset's ``shot_info``) and then,
as in mmaction2, ``start_index`` is added once more.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .sampling import _positive_int

NEEDS = ('fps', 'timestamp', 'timestamp_start')


@TRANSFORMS.register_module()
class SampleAVAFrames(BaseTransform):
    """``frame_inds`` (int32) of the clip around ``results['timestamp']``; sets clip_len, frame_interval,
    num_clips=1 and a fresh ``crop_quadruple`` [0, 0, 1, 1] (the crop transforms refine it).

    Args:
        clip_len: frames in the clip. frame_interval: step between them. test_mode: no random offsets.
    """

    def __init__(self, clip_len: int, frame_interval: int = 2, test_mode: bool = False):
        self.clip_len = _positive_int(clip_len, 'clip_len', 'SampleAVAFrames')
        self.frame_interval = _positive_int(frame_interval, 'frame_interval', 'SampleAVAFrames')
        self.test_mode = bool(test_mode)

    def transform(self, results: dict) -> dict:
        missing = [k for k in NEEDS if k not in results]
        if missing:
            raise ValueError(f'SampleAVAFrames needs {missing} in the sample (an AVADataset item); got '
                             f'{sorted(results)}')
        start_index = results.get('start_index', 0)
        total = results.get('total_frames')
        shot = (0, total) if total is not None else results.get('shot_info')
        if shot is None:
            raise ValueError(f"SampleAVAFrames: {results.get('img_key', 'the sample')} has neither total_frames (put "
                             f"DecordInit / PyAVInit first for videos) nor shot_info")
        center = results['fps'] * (results['timestamp'] - results['timestamp_start']) + start_index
        interval = self.frame_interval
        offsets = np.random.randint(-interval // 2, (interval + 1) // 2, size=self.clip_len)
        first = center - (self.clip_len // 2) * interval
        inds = np.arange(first, first + self.clip_len * interval, interval)
        if not self.test_mode:
            inds = inds + offsets
        inds = np.clip(inds, shot[0], shot[1] - 1)
        results.update(frame_inds=inds.astype(np.int32) + start_index, clip_len=self.clip_len,
                       frame_interval=interval, num_clips=1, crop_quadruple=np.array([0, 0, 1, 1], np.float32))
        return results

    def __repr__(self) -> str:
        return (f'SampleAVAFrames(clip_len={self.clip_len}, frame_interval={self.frame_interval}, '
                f'test_mode={self.test_mode})')
