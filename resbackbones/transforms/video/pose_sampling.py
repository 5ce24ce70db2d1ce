"""PoseC3D's frame sampling: mmaction2's ``UniformSampleFrames``, one frame from each of ``clip_len`` equal segments.

Unlike ``SampleFrames`` it covers the whole sequence whatever its length (a skeleton sequence is cheap to index), so
a clip of 48 frames summarises a 300-frame NTU sequence. The arithmetic follows mmaction2 v1.2 index for index
(tests/transforms/video/mmaction2_pose.py writes it out and the tests compare). Test mode draws with a generator
seeded by ``seed`` for every sample, as mmaction2, but a private one: mmaction2 reseeds numpy's global generator,
which also resets every later random transform of the same worker. ``MMUniformSampleFrames`` samples each modality
of an RGB + pose sample (RGBPoseConv3D) this way.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .sampling import _positive_int, _total_frames


def uniform_indices(num_frames: int, clip_len: int, rng, clip_index: int | None = None,
                    num_clips: int = 1) -> np.ndarray:
    """``clip_len`` indices over ``num_frames`` (before wrapping): one per segment for long sequences, every frame
    once plus random repeats for sequences under 2 x clip_len, a run from a start for shorter ones (random in
    training; ``clip_index`` spreads the starts of test clips)."""
    if num_frames < clip_len:
        if clip_index is None:
            start = rng.randint(0, num_frames)
        else:
            start = clip_index if num_frames < num_clips else clip_index * num_frames // num_clips
        return np.arange(start, start + clip_len)
    if num_frames < 2 * clip_len:  # every frame kept, num_frames - clip_len of them skipped at random
        skipped = np.zeros(clip_len + 1, dtype=np.int64)
        skipped[rng.choice(clip_len + 1, num_frames - clip_len, replace=False)] = 1
        return np.arange(clip_len) + np.cumsum(skipped)[:-1]
    bounds = np.array([i * num_frames // clip_len for i in range(clip_len + 1)])
    return bounds[:clip_len] + rng.randint(np.diff(bounds))


@TRANSFORMS.register_module()
class UniformSampleFrames(BaseTransform):
    """``num_clips`` clips of ``clip_len`` frames, each frame drawn from its own equal segment of the sequence.

    Reads ``total_frames`` and ``start_index``; writes ``frame_inds`` (int32, clips one after another, wrapped
    around short sequences), ``clip_len``, ``num_clips`` and ``frame_interval=None``.

    Args:
        clip_len: frames per clip. num_clips: clips per sample (test time: 10 in PoseC3D's configs).
        test_mode: draw from a generator seeded with ``seed`` for every sample (the same frames every epoch).
        seed: that seed (mmaction2's default 255).
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False, seed: int = 255):
        self.clip_len = _positive_int(clip_len, 'clip_len', 'UniformSampleFrames')
        self.num_clips = _positive_int(num_clips, 'num_clips', 'UniformSampleFrames')
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f'UniformSampleFrames: seed must be an integer >= 0; got {seed!r}')
        self.test_mode, self.seed = bool(test_mode), int(seed)

    def indices(self, num_frames: int, clip_len: int | None = None) -> np.ndarray:
        """All clips' frame indices (before start_index), wrapped into the sequence; ``clip_len`` defaults to the
        transform's."""
        clip_len = self.clip_len if clip_len is None else clip_len
        rng = np.random.RandomState(self.seed) if self.test_mode else np.random.mtrand._rand
        clips = [uniform_indices(num_frames, clip_len, rng, i if self.test_mode else None, self.num_clips)
                 for i in range(self.num_clips)]
        return np.mod(np.concatenate(clips), num_frames)

    def transform(self, results: dict) -> dict:
        total, start = _total_frames(results, 'UniformSampleFrames')
        results['frame_inds'] = (self.indices(total) + start).astype(np.int32)
        results.update(clip_len=self.clip_len, frame_interval=None, num_clips=self.num_clips)
        return results

    def __repr__(self) -> str:
        return (f'UniformSampleFrames(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'test_mode={self.test_mode}, seed={self.seed})')


MODALITIES = ('RGB', 'Pose')


@TRANSFORMS.register_module()
class MMUniformSampleFrames(UniformSampleFrames):
    """RGB + pose sampling (mmaction2's, for RGBPoseConv3D): ``UniformSampleFrames`` once per modality, each with
    its own clip length, so the RGB pathway sees a few frames and the pose pathway many of the same sequence.

    Writes ``RGB_inds`` / ``Pose_inds`` (int32, wrapped; frames of the video and of the keypoints, counted from 0:
    ``start_index`` is not added, as in mmaction2), ``clip_len`` (the dict), ``num_clips``, ``frame_interval=None``,
    and ``modality`` = the sampled modalities unless it already is a list. Training draws the modalities in
    ``clip_len``'s order from numpy's global generator; test mode draws each from its own generator seeded with
    ``seed`` (mmaction2 reseeds the global one before each modality, so both start from the same state).

    Args:
        clip_len: frames per clip by modality, e.g. dict(RGB=8, Pose=32); keys 'RGB' and/or 'Pose'.
        num_clips, test_mode, seed: as ``UniformSampleFrames``'.
    """

    def __init__(self, clip_len: dict, num_clips: int = 1, test_mode: bool = False, seed: int = 255):
        if not isinstance(clip_len, dict) or not clip_len:
            raise ValueError(f'MMUniformSampleFrames: clip_len must be a dict of frames per modality, e.g. '
                             f'dict(RGB=8, Pose=32); got {clip_len!r}')
        unknown = [m for m in clip_len if m not in MODALITIES]
        if unknown:
            raise ValueError(f'MMUniformSampleFrames: clip_len has modality {unknown[0]!r}; expected keys among '
                             f'{MODALITIES}')
        lengths = {m: _positive_int(n, f'clip_len[{m!r}]', 'MMUniformSampleFrames') for m, n in clip_len.items()}
        super().__init__(1, num_clips=num_clips, test_mode=test_mode, seed=seed)
        self.clip_len = lengths

    def transform(self, results: dict) -> dict:
        total, _ = _total_frames(results, 'MMUniformSampleFrames')
        for modality, clip_len in self.clip_len.items():
            results[f'{modality}_inds'] = self.indices(total, clip_len).astype(np.int32)
        results.update(clip_len=dict(self.clip_len), frame_interval=None, num_clips=self.num_clips)
        if not isinstance(results.get('modality'), list):
            results['modality'] = list(self.clip_len)
        return results

    def __repr__(self) -> str:
        return (f'MMUniformSampleFrames(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'test_mode={self.test_mode}, seed={self.seed})')
