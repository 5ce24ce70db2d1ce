"""mmaction2 v1.2's frame sampling, written out from mmaction/datasets/transforms/loading.py (SampleFrames,
DenseSampleFrames, UniformSample) as a test oracle: plain functions in mmaction2's own control flow, numpy's global
RNG. ``sample_frames_fps`` is SampleFrames with target_fps (its PySlowFast branch), without temporal jitter."""
from __future__ import annotations

import numpy as np


def _frames_from_offsets(clip_offsets, total_frames, start_index, clip_len, frame_interval, temporal_jitter,
                         out_of_bound_opt):
    """The part of SampleFrames.transform that DenseSampleFrames.transform repeats: offsets -> frame indices."""
    frame_inds = clip_offsets[:, None] + np.arange(clip_len)[None, :] * frame_interval
    frame_inds = np.concatenate(frame_inds)
    if temporal_jitter:
        frame_inds += np.random.randint(frame_interval, size=len(frame_inds))
    return _bounded(frame_inds.reshape((-1, clip_len)), total_frames, start_index, out_of_bound_opt)


def _bounded(frame_inds, total_frames, start_index, out_of_bound_opt):
    """SampleFrames.transform's last step: (clips, clip_len) indices past the end looped or repeated, flattened."""
    if out_of_bound_opt == 'loop':
        frame_inds = np.mod(frame_inds, total_frames)
    else:
        safe_inds = frame_inds < total_frames
        unsafe_inds = 1 - safe_inds
        last_ind = np.max(safe_inds * frame_inds, axis=1)
        frame_inds = safe_inds * frame_inds + (unsafe_inds.T * last_ind).T
    return (np.concatenate(frame_inds) + start_index).astype(np.int32)


def _train_clips(num_frames, ori_clip_len, num_clips, keep_tail_frames):
    """SampleFrames._get_train_clips."""
    if keep_tail_frames:
        avg_interval = (num_frames - ori_clip_len + 1) / float(num_clips)
        if num_frames > ori_clip_len - 1:
            base_offsets = np.arange(num_clips) * avg_interval
            return (base_offsets + np.random.uniform(0, avg_interval, num_clips)).astype(np.int32)
        return np.zeros((num_clips,), dtype=np.int32)
    avg_interval = (num_frames - ori_clip_len + 1) // num_clips
    if avg_interval > 0:
        base_offsets = np.arange(num_clips) * avg_interval
        return base_offsets + np.random.randint(avg_interval, size=num_clips)
    if num_frames > max(num_clips, ori_clip_len):
        return np.sort(np.random.randint(num_frames - ori_clip_len + 1, size=num_clips))
    if avg_interval == 0:
        ratio = (num_frames - ori_clip_len + 1.0) / num_clips
        return np.around(np.arange(num_clips) * ratio)
    return np.zeros((num_clips,), dtype=np.int32)


def sample_frames(total_frames, start_index, clip_len, frame_interval=1, num_clips=1, temporal_jitter=False,
                  twice_sample=False, out_of_bound_opt='loop', test_mode=False, keep_tail_frames=False):
    if test_mode:
        ori_clip_len = (clip_len - 1) * frame_interval + 1
    else:
        ori_clip_len = clip_len * frame_interval
    num_frames = total_frames
    if test_mode:
        if clip_len == 1:
            avg_interval = num_frames / float(num_clips)
            base_offsets = np.arange(num_clips) * avg_interval
            clip_offsets = base_offsets + avg_interval / 2.0
            if twice_sample:
                clip_offsets = np.concatenate([clip_offsets, base_offsets])
        else:
            max_offset = max(num_frames - ori_clip_len, 0)
            n = num_clips * 2 if twice_sample else num_clips
            if n > 1:
                num_segments = num_clips - 1
                offset_between = max_offset / float(num_segments)
                clip_offsets = np.round(np.arange(n) * offset_between)
            else:
                clip_offsets = np.array([max_offset // 2])
    else:
        clip_offsets = _train_clips(num_frames, ori_clip_len, num_clips, keep_tail_frames)
    return _frames_from_offsets(clip_offsets, total_frames, start_index, clip_len, frame_interval, temporal_jitter,
                                out_of_bound_opt)


def sample_frames_fps(total_frames, start_index, clip_len, frame_interval=1, num_clips=1, out_of_bound_opt='loop',
                      test_mode=False, keep_tail_frames=False, target_fps=None, avg_fps=None):
    fps_scale_ratio = 1.0 if target_fps is None or not avg_fps else avg_fps / target_fps
    ori_clip_len = np.maximum(1, clip_len * frame_interval * fps_scale_ratio)
    num_frames = total_frames
    if test_mode:
        if clip_len == 1:
            avg_interval = num_frames / float(num_clips)
            clip_offsets = np.arange(num_clips) * avg_interval + avg_interval / 2.0
        else:
            max_offset = max(num_frames - ori_clip_len, 0)
            if num_clips > 1:
                offset_between = np.floor(max_offset / float(num_clips - 1))
                clip_offsets = np.arange(num_clips) * offset_between
            else:
                clip_offsets = np.array([max_offset // 2])
    else:
        clip_offsets = _train_clips(num_frames, ori_clip_len, num_clips, keep_tail_frames)
    frame_inds = clip_offsets[:, None] + np.linspace(0, ori_clip_len - 1, clip_len).astype(np.int32)
    return _bounded(frame_inds.reshape((-1, clip_len)), total_frames, start_index, out_of_bound_opt)


def dense_sample_frames(total_frames, start_index, clip_len, frame_interval=1, num_clips=1, sample_range=64,
                        num_sample_positions=10, temporal_jitter=False, out_of_bound_opt='loop', test_mode=False):
    num_frames = total_frames
    sample_position = max(1, 1 + num_frames - sample_range)
    interval = sample_range // num_clips
    base_offsets = np.arange(num_clips) * interval
    if test_mode:
        start_list = np.linspace(0, sample_position - 1, num=num_sample_positions, dtype=int)
        clip_offsets = []
        for start_idx in start_list:
            clip_offsets.extend((base_offsets + start_idx) % num_frames)
        clip_offsets = np.array(clip_offsets)
    else:
        start_idx = 0 if sample_position == 1 else np.random.randint(0, sample_position - 1)
        clip_offsets = (base_offsets + start_idx) % num_frames
    return _frames_from_offsets(clip_offsets, total_frames, start_index, clip_len, frame_interval, temporal_jitter,
                                out_of_bound_opt)


def uniform_sample(total_frames, start_index, clip_len, num_clips=1, test_mode=False):
    seg_size = float(total_frames - 1) / clip_len
    inds = []
    if not test_mode:
        for i in range(clip_len):
            start = int(np.round(seg_size * i))
            end = int(np.round(seg_size * (i + 1)))
            inds.append(np.random.randint(start, end + 1))
    else:
        duration = seg_size / (num_clips + 1)
        for k in range(num_clips):
            for i in range(clip_len):
                start = int(np.round(seg_size * i))
                inds.append(start + int(duration * (k + 1)))
    return (np.array(inds) + start_index).astype(np.int32)
