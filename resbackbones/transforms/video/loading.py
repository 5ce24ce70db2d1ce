"""Loading the sampled frames of a clip: PyAV for video files, PIL for rawframe folders (mmaction2's names).

``PyAVInit`` opens ``results['filename']`` and sets ``total_frames`` / ``avg_fps`` from the frames that exist;
a sampler (``SampleFrames``) then writes ``frame_inds``, and ``PyAVDecode`` / ``RawFrameDecode`` put the frames in
``results['imgs']`` as one (M, H, W, 3) uint8 array, M = len(frame_inds), in ``frame_inds`` order. An AVA sample's
relative ``gt_bboxes`` / ``proposals`` become float32 pixels of the frames read (mmaction2's decoders do the same).
"""
from __future__ import annotations

import os

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from ..loading import read_image
from .boxes import boxes_to_pixels
from .decoder import CorruptVideoError, VideoReader


def _frame_inds(results: dict, owner: str) -> np.ndarray:
    inds = results.get('frame_inds')
    if inds is None:
        raise ValueError(f"{owner} needs 'frame_inds': put SampleFrames (or UniformSample) before it")
    return np.asarray(inds).reshape(-1)


def _set_imgs(results: dict, imgs: np.ndarray) -> dict:
    results['imgs'] = imgs
    results['img_shape'] = results['original_shape'] = imgs.shape[1:3]
    boxes_to_pixels(results, *imgs.shape[1:3])
    return results


@TRANSFORMS.register_module()
class PyAVInit(BaseTransform):
    """Open ``results['filename']``: adds ``video_reader``, ``total_frames`` (frames that decode) and ``avg_fps``.

    Args:
        threads: decoder threads per open video (1 suits data-loader workers; 0 lets FFmpeg choose).
    """

    def __init__(self, threads: int = 1, **kwargs):
        if kwargs.pop('io_backend', 'disk') != 'disk' or kwargs:
            raise ValueError(f'PyAVInit reads local files only; unexpected arguments {sorted(kwargs)}')
        self.threads = int(threads)

    def transform(self, results: dict) -> dict:
        if 'filename' not in results:
            raise ValueError(f"PyAVInit needs 'filename' in the sample (a VideoDataset item); got {sorted(results)}")
        reader = VideoReader(results['filename'], threads=self.threads)
        results.update(video_reader=reader, total_frames=reader.total_frames, avg_fps=reader.avg_fps)
        return results


@TRANSFORMS.register_module()
class PyAVDecode(BaseTransform):
    """Decode ``frame_inds`` of the open ``video_reader`` into ``imgs`` (seeking; never the whole video); closes it.

    Indices are frames of a full decode, counted from 0 (``start_index`` of video lists is 0). mmaction2's options
    ``multi_thread`` and ``mode`` ('accurate' or 'efficient', its keyframe-seeking approximation) are accepted;
    frames are exact under both.
    """

    def __init__(self, **kwargs):
        unknown = set(kwargs) - {'multi_thread', 'mode'}
        if unknown or kwargs.get('mode', 'accurate') not in ('accurate', 'efficient'):
            raise ValueError(f"PyAVDecode: unexpected arguments {kwargs} (mmaction2's multi_thread and mode="
                             "'accurate' | 'efficient' are accepted; frames are always exact)")

    def transform(self, results: dict) -> dict:
        reader = results.get('video_reader')
        if not isinstance(reader, VideoReader):
            raise ValueError("PyAVDecode needs results['video_reader']: put PyAVInit first")
        try:
            imgs = reader.read(_frame_inds(results, 'PyAVDecode'))
        finally:
            reader.close()
            results['video_reader'] = None
        return _set_imgs(results, imgs)


@TRANSFORMS.register_module()
class RawFrameDecode(BaseTransform):
    """Read ``frame_inds`` from ``frame_dir`` / ``filename_tmpl.format(index + offset)`` into ``imgs`` (RGB), or
    for ``modality='Flow'`` the x and y images ``filename_tmpl.format('x' | 'y', index + offset)`` as 2 channels.

    A missing or unreadable frame file raises CorruptVideoError naming the file (a dataset with
    ``on_invalid='skip'`` skips the whole sample and counts it).

    Args (mmaction2's, so its rawframe configs build unchanged): io_backend: 'disk' only. decoding_backend: the
        JPEG library mmaction2 would use ('cv2', 'pillow' or 'turbojpeg'); frames are read with Pillow here, in
        RGB as mmaction2 gives them.
    """

    def __init__(self, io_backend: str = 'disk', decoding_backend: str = 'cv2', **kwargs):
        if io_backend != 'disk' or decoding_backend not in ('cv2', 'pillow', 'turbojpeg') or kwargs:
            raise ValueError(f"RawFrameDecode reads local files (io_backend='disk') with decoding_backend 'cv2', "
                             f"'pillow' or 'turbojpeg'; got io_backend={io_backend!r}, "
                             f'decoding_backend={decoding_backend!r}, other arguments {sorted(kwargs)}')

    def transform(self, results: dict) -> dict:
        missing = [k for k in ('frame_dir', 'filename_tmpl') if k not in results]
        if missing:
            raise ValueError(f'RawFrameDecode needs {missing} in the sample (a RawframeDataset item)')
        inds = _frame_inds(results, 'RawFrameDecode')
        offset, cache = int(results.get('offset', 0)), {}
        modality = results.get('modality', 'RGB')
        if modality not in ('RGB', 'Flow'):
            raise ValueError(f"RawFrameDecode reads modality 'RGB' or 'Flow'; got {modality!r}")
        for index in inds.tolist():
            if index not in cache:
                try:
                    cache[index] = self.read_frame(results['frame_dir'], results['filename_tmpl'], index + offset,
                                                   modality)
                except (FileNotFoundError, ValueError) as err:
                    raise CorruptVideoError(results['frame_dir'], f'frame {index}: {err}') from err
        shapes = {img.shape for img in cache.values()}
        if len(shapes) > 1:
            raise CorruptVideoError(results['frame_dir'], f'frames differ in size: {sorted(shapes)}')
        return _set_imgs(results, np.stack([cache[i] for i in inds.tolist()]))

    @staticmethod
    def read_frame(frame_dir: str, filename_tmpl: str, index: int, modality: str) -> np.ndarray:
        """One frame, (H, W, 3) RGB; for Flow the x and y images (grey) stacked as (H, W, 2), as mmaction2."""
        if modality == 'RGB':
            return read_image(os.path.join(frame_dir, filename_tmpl.format(index)))
        x, y = (read_image(os.path.join(frame_dir, filename_tmpl.format(d, index)), 'grayscale') for d in 'xy')
        if x.shape != y.shape:
            raise ValueError(f"the x and y flow images differ in size ({x.shape[:2]} vs {y.shape[:2]}): "
                             f"{filename_tmpl.format('x', index)}")
        return np.concatenate([x, y], axis=2)
