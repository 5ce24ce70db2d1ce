"""mmaction2 v1.2's PoseC3D transforms (and RGBPoseConv3D's RGB + pose ones), written out from
mmaction/datasets/transforms/pose_transforms.py and processing.py as a test oracle: plain functions in mmaction2's
own control flow (per clip, per frame, per joint, per person), numpy's global RNG for training and a reseeded one for
testing, as there."""
from __future__ import annotations

import numpy as np


def uniform_sample_frames(num_frames, clip_len, num_clips=1, test_mode=False, seed=255, start_index=0):
    """UniformSampleFrames.transform's frame_inds."""
    if test_mode:
        np.random.seed(seed)
    all_inds = []
    for i in range(num_clips):
        if num_frames < clip_len:
            if test_mode:
                start = i if num_frames < num_clips else i * num_frames // num_clips
            else:
                start = np.random.randint(0, num_frames)
            inds = np.arange(start, start + clip_len)
        elif clip_len <= num_frames < 2 * clip_len:
            basic = np.arange(clip_len)
            inds = np.random.choice(clip_len + 1, num_frames - clip_len, replace=False)
            offset = np.zeros(clip_len + 1, dtype=np.int64)
            offset[inds] = 1
            inds = basic + np.cumsum(offset)[:-1]
        else:
            bids = np.array([i * num_frames // clip_len for i in range(clip_len + 1)])
            inds = bids[:clip_len] + np.random.randint(np.diff(bids))
        all_inds.append(inds)
    return (np.mod(np.concatenate(all_inds), num_frames) + start_index).astype(np.int32)


def _joint(arr, centers, max_values, sigma, eps=1e-4):
    """GeneratePoseTarget.generate_a_heatmap."""
    img_h, img_w = arr.shape
    for center, max_value in zip(centers, max_values):
        if max_value < eps:
            continue
        mu_x, mu_y = center[0], center[1]
        st_x, ed_x = max(int(mu_x - 3 * sigma), 0), min(int(mu_x + 3 * sigma) + 1, img_w)
        st_y, ed_y = max(int(mu_y - 3 * sigma), 0), min(int(mu_y + 3 * sigma) + 1, img_h)
        x = np.arange(st_x, ed_x, 1, np.float32)
        y = np.arange(st_y, ed_y, 1, np.float32)
        if not (len(x) and len(y)):
            continue
        y = y[:, None]
        patch = np.exp(-((x - mu_x) ** 2 + (y - mu_y) ** 2) / 2 / sigma ** 2) * max_value
        arr[st_y:ed_y, st_x:ed_x] = np.maximum(arr[st_y:ed_y, st_x:ed_x], patch)


def _limb(arr, starts, ends, start_values, end_values, sigma, eps=1e-4):
    """GeneratePoseTarget.generate_a_limb_heatmap."""
    img_h, img_w = arr.shape
    for start, end, start_value, end_value in zip(starts, ends, start_values, end_values):
        value_coeff = min(start_value, end_value)
        if value_coeff < eps:
            continue
        min_x, max_x = min(start[0], end[0]), max(start[0], end[0])
        min_y, max_y = min(start[1], end[1]), max(start[1], end[1])
        min_x, max_x = max(int(min_x - 3 * sigma), 0), min(int(max_x + 3 * sigma) + 1, img_w)
        min_y, max_y = max(int(min_y - 3 * sigma), 0), min(int(max_y + 3 * sigma) + 1, img_h)
        x = np.arange(min_x, max_x, 1, np.float32)
        y = np.arange(min_y, max_y, 1, np.float32)
        if not (len(x) and len(y)):
            continue
        y = y[:, None]
        d2_start = (x - start[0]) ** 2 + (y - start[1]) ** 2
        d2_end = (x - end[0]) ** 2 + (y - end[1]) ** 2
        d2_ab = (start[0] - end[0]) ** 2 + (start[1] - end[1]) ** 2
        if d2_ab < 1:
            _joint(arr, start[None], start_value[None], sigma, eps)
            continue
        coeff = (d2_start - d2_end + d2_ab) / 2. / d2_ab
        a_dominate, b_dominate = coeff <= 0, coeff >= 1
        seg_dominate = 1 - a_dominate - b_dominate
        position = np.stack([x + np.zeros_like(y), y + np.zeros_like(x)], axis=-1)
        projection = start + np.stack([coeff, coeff], axis=-1) * (end - start)
        d2_line = position - projection
        d2_line = d2_line[:, :, 0] ** 2 + d2_line[:, :, 1] ** 2
        d2_seg = a_dominate * d2_start + b_dominate * d2_end + seg_dominate * d2_line
        patch = np.exp(-d2_seg / 2. / sigma ** 2) * value_coeff
        arr[min_y:max_y, min_x:max_x] = np.maximum(arr[min_y:max_y, min_x:max_x], patch)


def pose_heatmaps(keypoint, keypoint_score, img_shape, sigma=0.6, with_kp=True, skeletons=()):
    """GeneratePoseTarget.gen_an_aug with use_score and one of with_kp / with_limb: (T, channels, H, W)."""
    kps = keypoint.astype(np.float32)
    img_h, img_w = img_shape
    channels = kps.shape[2] if with_kp else len(skeletons)
    out = np.zeros([kps.shape[1], channels, img_h, img_w], dtype=np.float32)
    for t in range(kps.shape[1]):
        frame, scores = kps[:, t], keypoint_score[:, t]
        if with_kp:
            for v in range(frame.shape[1]):
                _joint(out[t, v], frame[:, v], scores[:, v], sigma)
        else:
            for c, (a, b) in enumerate(skeletons):
                _limb(out[t, c], frame[:, a], frame[:, b], scores[:, a], scores[:, b], sigma)
    return out


def pose_compact_box(keypoint, img_shape, padding=0.25, threshold=10, hw_ratio=None, allow_imgpad=True):
    """PoseCompact.transform: (min_x, min_y, max_x, max_y) of the new frame, or None when left alone."""
    h, w = img_shape
    kp_x, kp_y = keypoint[..., 0], keypoint[..., 1]
    min_x, min_y = np.min(kp_x[kp_x != 0], initial=np.inf), np.min(kp_y[kp_y != 0], initial=np.inf)
    max_x, max_y = np.max(kp_x[kp_x != 0], initial=-np.inf), np.max(kp_y[kp_y != 0], initial=-np.inf)
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return None
    center = ((max_x + min_x) / 2, (max_y + min_y) / 2)
    half_width, half_height = (max_x - min_x) / 2 * (1 + padding), (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_height = max(hw_ratio[0] * half_width, half_height)
        half_width = max(1 / hw_ratio[1] * half_height, half_width)
    min_x, max_x = center[0] - half_width, center[0] + half_width
    min_y, max_y = center[1] - half_height, center[1] + half_height
    if not allow_imgpad:
        return int(max(0, min_x)), int(max(0, min_y)), int(min(w, max_x)), int(min(h, max_y))
    return int(min_x), int(min_y), int(max_x), int(max_y)


def mm_uniform_sample_frames(num_frames, clip_len, num_clips=1, test_mode=False, seed=255):
    """MMUniformSampleFrames.transform: {'RGB_inds': ..., 'Pose_inds': ...}, UniformSampleFrames' draws per modality
    in clip_len's order (test mode reseeds numpy before each), wrapped, without start_index."""
    return {f'{modality}_inds': uniform_sample_frames(num_frames, length, num_clips, test_mode, seed)
            for modality, length in clip_len.items()}


def mm_compact(imgs, keypoint, img_shape, padding=0.25, threshold=10, hw_ratio=(1., 1.), allow_imgpad=True):
    """MMCompact.transform: (frames, keypoint, img_shape); the whole frame when the box is too small, frames padded
    with zeros (np.pad) then sliced to the box."""
    h, w = img_shape
    kp = keypoint.copy()
    kp[np.isnan(kp)] = 0.
    box = pose_compact_box(kp, img_shape, padding, threshold, hw_ratio, allow_imgpad)
    min_x, min_y, max_x, max_y = box if box is not None else (0, 0, w, h)
    new_shape = (max_y - min_y, max_x - min_x)
    kp_x, kp_y = kp[..., 0], kp[..., 1]
    kp_x[kp_x != 0] -= min_x
    kp_y[kp_y != 0] -= min_y
    pad_l, pad_u, pad_r, pad_d = 0, 0, 0, 0
    if min_x < 0:
        pad_l = -min_x
        min_x, max_x = 0, max_x + pad_l
        w += pad_l
    if min_y < 0:
        pad_u = -min_y
        min_y, max_y = 0, max_y + pad_u
        h += pad_u
    if max_x > w:
        pad_r = max_x - w
        w = max_x
    if max_y > h:
        pad_d = max_y - h
        h = max_y
    if pad_l > 0 or pad_r > 0 or pad_u > 0 or pad_d > 0:
        imgs = [np.pad(img, ((pad_u, pad_d), (pad_l, pad_r), (0, 0))) for img in imgs]
    imgs = [img[min_y:max_y, min_x:max_x] for img in imgs]
    return np.stack(imgs), kp, new_shape
