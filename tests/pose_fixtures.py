"""Skeleton annotation pickles in mmaction2's PoseC3D format (as its ntu60_2d.pkl / ucf101_2d.pkl), for the pose
tests: ``dict(split={name: [frame_dir, ...]}, annotations=[dict(frame_dir, label, img_shape, original_shape,
total_frames, keypoint (M, T, 17, 2), keypoint_score (M, T, 17)), ...])``.

Class 0 raises the right wrist over the sequence, class 1 lowers it, so the label lives in the motion."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def skeleton(label: int, frames: int, rng: np.random.Generator, shape=(120, 160)) -> tuple[np.ndarray, np.ndarray]:
    """(1, T, 17, 2) keypoints of a standing person whose right wrist (joint 10) rises (label 0) or falls (1)."""
    h, w = shape
    base = np.stack([rng.uniform(0.35, 0.65, 17) * w, np.linspace(0.2, 0.9, 17) * h], -1)
    kp = np.repeat(base[None, None], frames, axis=1) + rng.normal(0, 1.0, (1, frames, 17, 2))
    travel = np.linspace(0.8, 0.2, frames) if label == 0 else np.linspace(0.2, 0.8, frames)
    kp[0, :, 10, 1] = travel * h
    score = rng.uniform(0.6, 1.0, (1, frames, 17))
    return kp.astype(np.float32), score.astype(np.float32)


def write_pose_annotations(path: Path, per_class: int = 4, frames: int = 20, seed: int = 0,
                           splits=('xsub_train', 'xsub_val')) -> Path:
    """An annotation pickle with ``per_class`` sequences of each class in every split; returns ``path``."""
    rng = np.random.default_rng(seed)
    annotations, split = [], {name: [] for name in splits}
    for name in splits:
        for k in range(2 * per_class):
            label, ident = k % 2, f'{name}_S{k:03d}'
            kp, score = skeleton(label, frames + k, rng)
            annotations.append(dict(frame_dir=ident, label=label, img_shape=(120, 160), original_shape=(120, 160),
                                    total_frames=frames + k, keypoint=kp, keypoint_score=score))
            split[name].append(ident)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return path


def write_pose_videos(annotations: Path, video_root: Path) -> Path:
    """For every annotation of ``annotations``, ``<video_root>/<frame_dir>.mp4``: its img_shape frames, one per
    skeleton frame, with each confident joint drawn as a bright 5 px square (the RGB side of PoseC3D's RGB + pose
    data, mmaction2's ``data_prefix=dict(video=...)``); returns ``video_root``."""
    from resbackbones.transforms.video.writer import write_video

    with open(annotations, 'rb') as f:
        content = pickle.load(f)
    video_root.mkdir(parents=True, exist_ok=True)
    for ann in content['annotations']:
        h, w = ann['img_shape']

        def frames(ann=ann, h=h, w=w):
            for t in range(ann['total_frames']):
                frame = np.full((h, w, 3), 40, np.uint8)
                for (x, y), score in zip(ann['keypoint'][0, t], ann['keypoint_score'][0, t]):
                    if score > 0.5:
                        frame[max(int(y) - 2, 0):int(y) + 3, max(int(x) - 2, 0):int(x) + 3] = 220
                yield frame
        write_video(str(video_root / f"{ann['frame_dir']}.mp4"), frames(), gop=8)
    return video_root
