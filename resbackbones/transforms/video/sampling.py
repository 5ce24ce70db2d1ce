"""Which frames of a video make a clip: mmaction2's ``SampleFrames``, ``DenseSampleFrames`` and ``UniformSample``
arithmetic.

Both read ``results['total_frames']`` and ``results['start_index']`` (0 for decoded videos, usually 1 for
rawframe folders) and write ``frame_inds`` (int32, clips one after another), ``clip_len``, ``frame_interval`` and
``num_clips``. The offsets follow mmaction2 v1.2 index for index (tests/transforms/video/mmaction2_sampling.py writes
its formulas out and the tests compare), so a model trained there sees the same frames here. Randomness comes from
numpy's global generator, as in mmaction2, which mmengine seeds per worker.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS

OUT_OF_BOUND = ('loop', 'repeat_last')


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f'{owner}: {name} must be an integer >= 1; got {value!r}')
    return int(value)


def _total_frames(results: dict, owner: str) -> tuple[int, int]:
    total, start = results.get('total_frames'), results.get('start_index', 0)
    where = results.get('filename') or results.get('frame_dir') or 'the sample'
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 1:
        raise ValueError(f"{owner}: {where} has total_frames={total!r}; a clip needs a video with >= 1 frame")
    return int(total), int(start)


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart (mmaction2's names and arithmetic).

    Train mode: the video is cut into ``num_clips`` equal spans and each clip starts at a random offset inside its
    span (TSN segments when ``clip_len=1``). Test mode: clips are spread evenly and deterministically (2D models:
    segment centres; 3D models: offsets from 0 to the last that fits). Frames past the end wrap around
    (``out_of_bound_opt='loop'``) or repeat the clip's last valid frame (``'repeat_last'``).

    Args:
        clip_len, frame_interval, num_clips: frames per clip, step between them, clips per video.
        temporal_jitter: add a random 0..frame_interval-1 to every index (train-time augmentation).
        twice_sample: test mode also samples the clips shifted back (TSM's testing).
        keep_tail_frames: train offsets may reach the last frames (float spans).
        test_mode: deterministic test sampling.
        target_fps: sample as if the video ran at this frame rate (mmaction2's rule, from PySlowFast): a clip
            covers ``clip_len * frame_interval * avg_fps / target_fps`` frames of the video (at least 1), its
            ``clip_len`` frames evenly spread over them, so clips from 60 and 30 fps videos span the same time.
            Needs ``avg_fps`` in the sample (video readers set it); without it the rate is taken as target_fps.
    """

    def __init__(self, clip_len: int, frame_interval: int = 1, num_clips: int = 1, temporal_jitter: bool = False,
                 twice_sample: bool = False, out_of_bound_opt: str = 'loop', test_mode: bool = False,
                 keep_tail_frames: bool = False, target_fps: float | None = None):
        name = type(self).__name__
        self.clip_len = _positive_int(clip_len, 'clip_len', name)
        self.frame_interval = _positive_int(frame_interval, 'frame_interval', name)
        self.num_clips = _positive_int(num_clips, 'num_clips', name)
        if out_of_bound_opt not in OUT_OF_BOUND:
            raise ValueError(f'{name}: out_of_bound_opt must be one of {OUT_OF_BOUND}; got {out_of_bound_opt!r}')
        self.out_of_bound_opt = out_of_bound_opt
        self.temporal_jitter, self.twice_sample = bool(temporal_jitter), bool(twice_sample)
        self.test_mode, self.keep_tail_frames = bool(test_mode), bool(keep_tail_frames)
        if target_fps is not None and (isinstance(target_fps, bool) or not isinstance(target_fps, (int, float))
                                       or not target_fps > 0):
            raise ValueError(f'{name}: target_fps must be a frame rate > 0 or None; got {target_fps!r}')
        if target_fps is not None and self.temporal_jitter:
            raise ValueError(f'{name}: temporal_jitter with target_fps is not defined (mmaction2 broadcasts one '
                             f'jitter per clip over a (clips, frames) array there); use one of them')
        self.target_fps = target_fps
        if self.test_mode and self.twice_sample and self.clip_len > 1 and self.num_clips == 1:
            # mmaction2 divides by num_clips - 1 there: a ZeroDivisionError at the first sample (garbage indices
            # with target_fps)
            raise ValueError(f'{name}: twice_sample with clip_len > 1 needs num_clips >= 2 in test mode (the clips '
                             f'are spread by num_clips - 1 steps); got num_clips=1')

    def span(self, fps_ratio: float = 1.0) -> float:
        """Frames a clip covers: mmaction2 counts the trailing interval in training, not in testing; with
        target_fps, clip_len * frame_interval scaled by avg_fps / target_fps (``fps_ratio``), at least 1."""
        if self.target_fps is not None:
            return max(1.0, self.clip_len * self.frame_interval * fps_ratio)
        if self.test_mode:
            return (self.clip_len - 1) * self.frame_interval + 1
        return self.clip_len * self.frame_interval

    def train_offsets(self, num_frames: int, span: float | None = None) -> np.ndarray:
        """Start frame of each clip in training (random within its segment); ``span`` defaults to ``span()``."""
        span, n = self.span() if span is None else span, self.num_clips
        if self.keep_tail_frames:
            avg = (num_frames - span + 1) / float(n)
            if num_frames > span - 1:
                return (np.arange(n) * avg + np.random.uniform(0, avg, n)).astype(np.int32)
            return np.zeros(n, dtype=np.int32)
        avg = (num_frames - span + 1) // n
        if avg > 0:
            return np.arange(n) * avg + np.random.randint(avg, size=n)
        if num_frames > max(n, span):
            return np.sort(np.random.randint(num_frames - span + 1, size=n))
        if avg == 0:
            return np.around(np.arange(n) * ((num_frames - span + 1.0) / n))
        return np.zeros(n, dtype=np.int32)

    def test_offsets(self, num_frames: int, span: float | None = None) -> np.ndarray:
        """Start frame of each clip in testing (deterministic); ``span`` defaults to ``span()``."""
        span = self.span() if span is None else span
        if self.clip_len == 1:  # 2D models: the centre of each of num_clips equal segments
            avg = num_frames / float(self.num_clips)
            base = np.arange(self.num_clips) * avg
            offsets = base + avg / 2.0
            return np.concatenate([offsets, base]) if self.twice_sample else offsets
        max_offset = max(num_frames - span, 0)
        clips = self.num_clips * 2 if self.twice_sample else self.num_clips
        if clips > 1:
            # mmaction2 divides by num_clips - 1 even with twice_sample (then 2x clips share that step); with
            # target_fps it floors the step (PySlowFast) instead of rounding each offset
            if self.target_fps is not None:
                return np.arange(clips) * np.floor(max_offset / float(self.num_clips - 1))
            return np.round(np.arange(clips) * (max_offset / float(self.num_clips - 1)))
        return np.array([max_offset // 2])

    def steps(self, span: float) -> np.ndarray:
        """Each clip's frames relative to its start: every frame_interval-th, or with target_fps clip_len frames
        spread evenly over the span (truncated to whole frames)."""
        if self.target_fps is not None:
            return np.linspace(0, span - 1, self.clip_len).astype(np.int32)
        return np.arange(self.clip_len) * self.frame_interval

    def transform(self, results: dict) -> dict:
        total, start = _total_frames(results, type(self).__name__)
        fps = results.get('avg_fps')
        span = self.span(fps / self.target_fps if self.target_fps is not None and fps else 1.0)
        offsets = self.test_offsets(total, span) if self.test_mode else self.train_offsets(total, span)
        inds = (offsets[:, None] + self.steps(span)[None, :]).reshape(-1)
        if self.temporal_jitter:
            inds = inds + np.random.randint(self.frame_interval, size=len(inds))
        inds = inds.reshape(-1, self.clip_len)
        if self.out_of_bound_opt == 'loop':
            inds = np.mod(inds, total)
        else:  # each clip's frames past the end become its last frame inside the video
            inside = inds < total
            last = np.max(inside * inds, axis=1, keepdims=True)
            inds = np.where(inside, inds, last)
        results['frame_inds'] = (inds.reshape(-1) + start).astype(np.int32)
        results.update(clip_len=self.clip_len, frame_interval=self.frame_interval, num_clips=self.num_clips)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, frame_interval={self.frame_interval}, '
                f'num_clips={self.num_clips}, out_of_bound_opt={self.out_of_bound_opt!r}, '
                f'test_mode={self.test_mode}, target_fps={self.target_fps})')


@TRANSFORMS.register_module()
class DenseSampleFrames(SampleFrames):
    """mmaction2's dense sampling (TSM/I3D "dense" configs): the ``num_clips`` clips are ``sample_range //
    num_clips`` frames apart inside one window of ``sample_range`` frames, rather than spread over the whole video.

    Train mode: the window starts at random in [0, max(1, total - sample_range + 1) - 1) (mmaction2's bound, whose
    last position is never drawn); test mode: ``num_sample_positions`` windows spread evenly from the start to the
    last position, so a video yields ``num_clips * num_sample_positions`` clips. Offsets wrap around the video.

    Args (besides SampleFrames'):
        sample_range: frames one window covers (default 64).
        num_sample_positions: windows per video in test mode (default 10).
    """

    def __init__(self, clip_len: int, frame_interval: int = 1, num_clips: int = 1, sample_range: int = 64,
                 num_sample_positions: int = 10, **kwargs):
        super().__init__(clip_len, frame_interval, num_clips, **kwargs)
        self.sample_range = _positive_int(sample_range, 'sample_range', 'DenseSampleFrames')
        self.num_sample_positions = _positive_int(num_sample_positions, 'num_sample_positions', 'DenseSampleFrames')
        if self.twice_sample or self.keep_tail_frames or self.target_fps is not None:
            raise ValueError('DenseSampleFrames: twice_sample, keep_tail_frames and target_fps do not apply '
                             '(mmaction2 ignores them in dense sampling)')

    def _base_offsets(self) -> np.ndarray:
        return np.arange(self.num_clips) * (self.sample_range // self.num_clips)

    def train_offsets(self, num_frames: int, span: float | None = None) -> np.ndarray:
        positions = max(1, 1 + num_frames - self.sample_range)
        start = 0 if positions == 1 else np.random.randint(0, positions - 1)
        return (self._base_offsets() + start) % num_frames

    def test_offsets(self, num_frames: int, span: float | None = None) -> np.ndarray:
        positions = max(1, 1 + num_frames - self.sample_range)
        starts = np.linspace(0, positions - 1, num=self.num_sample_positions, dtype=int)
        return np.concatenate([(self._base_offsets() + s) % num_frames for s in starts])


@TRANSFORMS.register_module()
class UniformSample(BaseTransform):
    """One frame from each of ``clip_len`` equal segments (mmaction2's ``UniformSample``, from SlowFast's SSv2).

    Train mode picks a random frame per segment; test mode takes ``num_clips`` evenly shifted positions inside
    every segment. Short videos repeat frames instead of looping.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False):
        self.clip_len = _positive_int(clip_len, 'clip_len', 'UniformSample')
        self.num_clips = _positive_int(num_clips, 'num_clips', 'UniformSample')
        self.test_mode = bool(test_mode)

    def indices(self, num_frames: int) -> np.ndarray:
        """Frame indices (before start_index) for a video of ``num_frames`` frames."""
        seg = float(num_frames - 1) / self.clip_len
        starts = [int(np.round(seg * i)) for i in range(self.clip_len)]
        if not self.test_mode:
            return np.array([np.random.randint(s, int(np.round(seg * (i + 1))) + 1) for i, s in enumerate(starts)])
        step = seg / (self.num_clips + 1)
        return np.array([s + int(step * (k + 1)) for k in range(self.num_clips) for s in starts])

    def transform(self, results: dict) -> dict:
        total, start = _total_frames(results, 'UniformSample')
        results['frame_inds'] = (self.indices(total) + start).astype(np.int32)
        results.update(clip_len=self.clip_len, frame_interval=None, num_clips=self.num_clips)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'test_mode={self.test_mode})')
