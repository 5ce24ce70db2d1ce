"""mmaction2's ``MMDecode``: the sampled video frames and keypoints of an RGB + pose sample (RGBPoseConv3D).

``MMUniformSampleFrames`` writes ``RGB_inds`` and ``Pose_inds``; this decodes ``RGB_inds`` of the sample's video
with the project's PyAV reader (seeking, never the whole video) and keeps ``Pose_inds`` of its keypoints. Skeleton
annotations are in pixels of the frames they were detected on (``img_shape``); when the video found here has another
size, the keypoints are rescaled to it, as mmaction2 does, so frames and keypoints share one pixel grid from here on.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .decoder import CorruptVideoError, VideoReader
from .keypoints import image_shape, keypoints_of, sample_name
from .pose_loading import keep_keypoint_frames


def _indices(results: dict, modality: str) -> np.ndarray:
    inds = results.get(f'{modality}_inds')
    if inds is None:
        raise ValueError(f"MMDecode: {sample_name(results)} has no '{modality}_inds' for modality {modality!r} (put "
                         f'MMUniformSampleFrames with clip_len[{modality!r}] first)')
    return np.asarray(inds).reshape(-1)


@TRANSFORMS.register_module()
class MMDecode(BaseTransform):
    """Decode ``RGB_inds`` of ``filename`` (else ``frame_dir + '.mp4'``) into ``imgs`` ((M, H, W, 3) uint8 RGB) and
    keep ``Pose_inds`` of ``keypoint`` / ``keypoint_score`` (float32; scores default to 1), for each of the sample's
    ``modality`` list. With both frames and keypoints, keypoints in an ``img_shape`` other than the frames' are
    scaled to the frames; ``img_shape`` and ``original_shape`` become the frames' size.

    Args:
        io_backend: 'disk' only (local files). num_threads: decoder threads per video (1 suits loader workers).
    """

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs):
        if io_backend != 'disk' or kwargs:
            raise ValueError(f'MMDecode reads local files only (io_backend={io_backend!r}); unexpected arguments '
                             f'{sorted(kwargs)}')
        self.io_backend, self.num_threads = io_backend, int(num_threads)

    def transform(self, results: dict) -> dict:
        modalities = results.get('modality')
        modalities = [modalities] if isinstance(modalities, str) else modalities
        if not isinstance(modalities, (list, tuple)):
            raise ValueError(f"MMDecode: {sample_name(results)} needs 'modality' as a list such as ['RGB', 'Pose'] "
                             f'(set by MMUniformSampleFrames); got {modalities!r}')
        annotated_shape = results.get('img_shape')
        for modality in modalities:
            if modality == 'RGB':
                self.decode_video(results, _indices(results, 'RGB'))
            elif modality == 'Pose':
                kp = keypoints_of(results, 'MMDecode')
                results.setdefault('keypoint_score', np.ones(kp.shape[:3], np.float32))
                keep_keypoint_frames(results, _indices(results, 'Pose'), 'MMDecode')
            else:
                raise ValueError(f"MMDecode: {sample_name(results)} has modality {modality!r}; expected 'RGB' or "
                                 f"'Pose'")
        if 'imgs' in results:
            size = tuple(results['imgs'].shape[1:3])
            if 'keypoint' in results:
                old_h, old_w = image_shape(dict(results, img_shape=annotated_shape), 'MMDecode')
                if (old_h, old_w) != size:
                    kp = keypoints_of(results, 'MMDecode').astype(np.float32)  # a copy: never scale the annotation
                    kp[..., 0] *= size[1] / old_w
                    kp[..., 1] *= size[0] / old_h
                    results['keypoint'] = kp
            results['img_shape'] = results['original_shape'] = size
        return results

    def decode_video(self, results: dict, inds: np.ndarray) -> None:
        """``imgs`` = frames ``inds`` of the sample's video; a missing file raises FileNotFoundError naming it."""
        if 'filename' not in results:
            if not isinstance(results.get('frame_dir'), str):
                raise ValueError(f"MMDecode: the RGB modality needs 'filename' or 'frame_dir' (the video is "
                                 f'frame_dir + .mp4); got {sorted(results)}')
            results['filename'] = results['frame_dir'] + '.mp4'
        with VideoReader(results['filename'], threads=self.num_threads) as reader:
            outside = inds[(inds < 0) | (inds >= reader.total_frames)]
            if outside.size:
                raise CorruptVideoError(results['filename'], f'MMDecode needs frame {int(outside[0])} but the video '
                                        f"has {reader.total_frames} frames (total_frames="
                                        f"{results.get('total_frames')} in the annotation)")
            results['imgs'] = reader.read(inds)

    def __repr__(self) -> str:
        return f'MMDecode(io_backend={self.io_backend!r}, num_threads={self.num_threads})'
