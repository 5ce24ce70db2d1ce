"""The end of a video pipeline: ``FormatShape`` lays frames out for the model, ``PackActionInputs`` packs them.

``FormatShape('NCTHW')`` turns the (crops x clips x T, H, W, C) frames into (crops x clips, C, T, H, W) for 3D
models; ``'NCHW'`` into (crops x clips x T, C, H, W) frames for 2D models (TSN), and for optical flow into
(crops x clips, 2 x T, H, W): a TSN flow segment is clip_len consecutive (x, y) fields stacked as channels
(x1, y1, x2, y2, ...), which mmaction2's flow configs size with ``in_channels=2 * clip_len``. ``'NCTHW_Heatmap'``
lays PoseC3D's (frames, K, H, W) heatmaps out as (views, K, T, H, W) volumes of K joint or limb channels. The data
loader then stacks samples into (N, views, C, T, H, W) or (N, frames, C, H, W), which the recognizers score per
view and average. An RGB + pose sample (RGBPoseConv3D) has ``clip_len`` per modality (dict(RGB=8, Pose=32)):
'NCTHW' then lays ``imgs`` out with ``clip_len['RGB']`` and also ``heatmap_imgs`` with ``clip_len['Pose']``, and
``PackActionInputs(collect_keys=('imgs', 'heatmap_imgs'))`` packs both, as mmaction2.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from .clip_checks import clip_of

FORMATS = ('NCTHW', 'NCHW', 'NCTHW_Heatmap')


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Reorder ``imgs`` to ``input_format`` (mmaction2's names); ``collapse`` drops the views axis of a single view.

    Needs ``clip_len`` and ``num_clips`` from the sampler for 'NCTHW'; with ``clip_len`` a dict (RGB + pose),
    ``imgs`` take ``clip_len['RGB']`` and ``heatmap_imgs`` (when present) become (views, K, ``clip_len['Pose']``,
    H, W) with ``heatmap_input_shape``.
    """

    def __init__(self, input_format: str, collapse: bool = False):
        if input_format not in FORMATS:
            raise ValueError(f'FormatShape: input_format must be one of {FORMATS}; got {input_format!r}')
        self.input_format, self.collapse = input_format, bool(collapse)

    def transform(self, results: dict) -> dict:
        if self.input_format == 'NCTHW_Heatmap':
            imgs = heatmap_views(results.get('imgs'), results.get('clip_len'), results.get('num_clips'),
                                 "FormatShape('NCTHW_Heatmap')", "results['imgs']", 'clip_len')
        elif self.input_format == 'NCHW':
            imgs = clip_of(results, 'FormatShape')
            imgs = imgs.transpose(0, 3, 1, 2)
            if results.get('modality') == 'Flow':  # a segment's clip_len flow fields stack into 2 x clip_len channels
                clip_len = results.get('clip_len')
                if not isinstance(clip_len, int) or len(imgs) % clip_len:
                    raise ValueError(f"FormatShape('NCHW') of flow: {len(imgs)} frames do not split into segments "
                                     f'of clip_len={clip_len} (put SampleFrames first)')
                imgs = imgs.reshape((-1, clip_len * imgs.shape[1]) + imgs.shape[2:])
        else:
            imgs = frame_clips(results)
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(f'FormatShape(collapse=True) needs one view; got {imgs.shape[0]}')
            imgs = imgs[0]
        results['imgs'] = np.ascontiguousarray(imgs)
        results['input_shape'] = results['imgs'].shape
        return results

    def __repr__(self) -> str:
        return f'FormatShape(input_format={self.input_format!r}, collapse={self.collapse})'


def frame_clips(results: dict) -> np.ndarray:
    """'NCTHW': the (views x clips x T, H, W, C) frames as (views x clips, C, T, H, W); with ``clip_len`` a dict,
    T = clip_len['RGB'] and ``heatmap_imgs`` (if any) are laid out with clip_len['Pose'] in place."""
    imgs = clip_of(results, 'FormatShape')
    clip_len, num_clips = results.get('clip_len'), results.get('num_clips')
    lengths, name = (clip_len, "clip_len['RGB']") if isinstance(clip_len, dict) else ({'RGB': clip_len}, 'clip_len')
    rgb_len = lengths.get('RGB')
    if not isinstance(rgb_len, int) or not isinstance(num_clips, int) or len(imgs) % (rgb_len * num_clips):
        raise ValueError(f"FormatShape('NCTHW'): {len(imgs)} frames do not split into clips of {name}={rgb_len} x "
                         f'num_clips={num_clips} (put SampleFrames first)')
    if 'heatmap_imgs' in results:
        maps = heatmap_views(results['heatmap_imgs'], lengths.get('Pose'), num_clips, "FormatShape('NCTHW')",
                             "results['heatmap_imgs']", "clip_len['Pose']")
        results['heatmap_imgs'] = np.ascontiguousarray(maps)
        results['heatmap_input_shape'] = maps.shape
    return imgs.reshape((-1, rgb_len) + imgs.shape[1:]).transpose(0, 4, 1, 2, 3)


def heatmap_views(maps, clip_len, num_clips, owner: str, key: str, clip_key: str) -> np.ndarray:
    """``GeneratePoseTarget``'s (views x clips x T, K, H, W) maps as (views x clips, K, T, H, W) volumes; ``owner``,
    ``key`` and ``clip_key`` name the transform, the maps and the clip length in errors."""
    if not isinstance(maps, np.ndarray) or maps.ndim != 4:
        raise ValueError(f'{owner} needs {key} as (frames, K, H, W) heatmaps (put GeneratePoseTarget first); got '
                         f"{getattr(maps, 'shape', type(maps).__name__)}")
    if not isinstance(clip_len, int) or not isinstance(num_clips, int) or len(maps) % (clip_len * num_clips):
        raise ValueError(f'{owner}: {len(maps)} heatmap frames do not split into clips of {clip_key}={clip_len} x '
                         f'num_clips={num_clips} (put UniformSampleFrames or MMUniformSampleFrames first)')
    return maps.reshape((-1, clip_len) + maps.shape[1:]).transpose(0, 2, 1, 3, 4)


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """``dict(inputs=tensor, data_samples=dict(gt_label, ...))`` from ``imgs`` (or ``audios``); the tensor keeps
    uint8 frames as uint8 (normalised on the device by ``ActionDataPreprocessor``, cheaper through the loader).

    An AVA sample (with ``gt_bboxes``) also gets what a detector and the AVA metric read: ``gt_bboxes`` (K, 4) and
    ``proposals`` (P, 4, when given) as float32 pixel tensors of the final clip, ``gt_labels`` (K, num_classes)
    float32 multi-hot (``multilabel=False``: (K, 1) int64 action ids, as mmaction2), and ``img_shape`` (h, w),
    ``flip`` (False unless flipped), ``crop_quadruple`` (float32 (4,), [0, 0, 1, 1] unless cropped),
    ``video_id``, ``timestamp``, ``img_key`` and the proposals' ``scores`` (float32, when given).

    Args:
        collect_keys: None (``inputs`` is one tensor) or the keys whose arrays become ``inputs = {key: tensor}``
            (RGB + pose: ('imgs', 'heatmap_imgs'), read by ``MultiModalDataPreprocessor``).
        meta_keys: keys copied into ``data_samples`` when present (``label`` is copied as ``gt_label``).
    """

    def __init__(self, collect_keys: Sequence[str] | None = None,
                 meta_keys: Sequence[str] = ('filename', 'frame_dir', 'num_clips', 'clip_len')):
        for name, keys in (('collect_keys', collect_keys), ('meta_keys', meta_keys)):
            if keys is not None and (isinstance(keys, str) or not all(isinstance(k, str) for k in keys)):
                raise ValueError(f'PackActionInputs: {name} must be a list of key names; got {keys!r}')
        self.collect_keys = tuple(collect_keys) if collect_keys is not None else None
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if self.collect_keys is not None:
            return dict(inputs=self.collected(results), data_samples=self.data_samples(results))
        imgs = results.get('imgs', results.get('audios'))  # frames or heatmaps; else audio features (mmaction2's order)
        if not isinstance(imgs, np.ndarray) or imgs.ndim not in (4, 5):
            raise ValueError("PackActionInputs needs results['imgs'] laid out by FormatShape, or results['audios'] by "
                             f"FormatAudioShape (4 or 5 dims); got {getattr(imgs, 'shape', type(imgs).__name__)}")
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(imgs)), data_samples=self.data_samples(results))

    def collected(self, results: dict) -> dict:
        """{key: tensor} of ``collect_keys``; ValueError names a missing or non-array key and the keys present."""
        inputs = {}
        for key in self.collect_keys:
            value = results.get(key)
            if isinstance(value, torch.Tensor):
                inputs[key] = value
            elif isinstance(value, np.ndarray) and value.dtype != object:
                inputs[key] = torch.from_numpy(np.ascontiguousarray(value))
            else:
                got = 'missing' if key not in results else f'a {type(value).__name__}, not an array'
                where = results.get('filename') or results.get('frame_dir') or 'the sample'
                raise ValueError(f'PackActionInputs: collect key {key!r} of {where} is {got}; the sample has '
                                 f'{sorted(results)}')
        return inputs

    def data_samples(self, results: dict) -> dict:
        """``meta_keys``, ``gt_label`` and an AVA sample's detection fields."""
        samples = {key: results[key] for key in self.meta_keys if key in results}
        label = results.get('label', results.get('gt_label'))
        if label is not None:
            if isinstance(label, np.ndarray) and label.ndim == 1:  # multi-hot (multi_class datasets)
                samples['gt_label'] = torch.from_numpy(label.astype(np.float32))
            else:
                samples['gt_label'] = list(label) if isinstance(label, (list, tuple)) else int(label)
        if 'gt_bboxes' in results:
            samples.update(detection_fields(results))
        return samples

    def __repr__(self) -> str:
        return f'PackActionInputs(collect_keys={self.collect_keys!r}, meta_keys={self.meta_keys!r})'


def detection_fields(results: dict) -> dict:
    """The boxes, labels and keyframe meta of an AVA sample (see PackActionInputs); ValueError names what is missing."""
    missing = [k for k in ('gt_labels', 'img_shape', 'video_id', 'timestamp', 'img_key') if k not in results]
    if missing:
        raise ValueError(f'PackActionInputs: an AVA sample (with gt_bboxes) needs {missing}; got {sorted(results)}')
    labels = np.asarray(results['gt_labels'])
    out = dict(gt_bboxes=torch.from_numpy(np.asarray(results['gt_bboxes'], np.float32).reshape(-1, 4)),
               gt_labels=torch.from_numpy(labels.astype(np.float32) if labels.dtype.kind == 'f' else labels),
               img_shape=tuple(int(v) for v in results['img_shape']), flip=bool(results.get('flip', False)),
               crop_quadruple=np.asarray(results.get('crop_quadruple', (0, 0, 1, 1)), np.float32),
               video_id=results['video_id'], timestamp=results['timestamp'], img_key=results['img_key'])
    if results.get('proposals') is not None:
        out['proposals'] = torch.from_numpy(np.asarray(results['proposals'], np.float32).reshape(-1, 4))
    if results.get('scores') is not None:
        out['scores'] = np.asarray(results['scores'], np.float32)
    return out
