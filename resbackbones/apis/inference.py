"""Detector inference in two calls (mmdet's API): ``init_detector(config, checkpoint)``, ``inference_detector``."""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.structures import BaseDataElement
from torch import nn

from ..engine.config import load_config, model_config
from ..registry import MODELS, TRANSFORMS
from ..transforms import LoadImageAndMask, LoadImageFromFile
from ..weights.io import load_whole, under_state_dict
from .image_arrays import array_channels, is_path

DEFAULT_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackDetInputs')]
ANNOTATION_LOADERS = ('LoadDetAnnotations', 'LoadAnnotations')  # ours and mmdet's / mmcv's names
IMAGE_LOADERS = (LoadImageFromFile, LoadImageAndMask)  # steps an array skips (a U-Net's pipeline reads with the 2nd)


def init_detector(config: str | Config, checkpoint: str | None = None, device: str = 'cpu') -> nn.Module:
    """Build the config's model (a detector, or another task model whose predict takes images) in eval mode on
    ``device``, load ``checkpoint`` (ours or mmengine's) if given, and keep the config as ``model.cfg`` so
    ``inference_detector`` uses its test pipeline; the checkpoint's ``meta['dataset_meta']`` (the class names it
    was trained on) becomes ``model.dataset_meta``, as in mmdet."""
    if isinstance(config, (str, os.PathLike)):
        cfg = load_config(os.fspath(config))
    elif isinstance(config, Config):
        cfg = config
    elif isinstance(config, dict):  # a plain dict (cfg.to_dict()) lacked the attribute access inference uses
        cfg = Config(config)
    else:
        raise TypeError(f'init_detector: config must be a config file path or an mmengine Config (or dict); got '
                        f'{type(config).__name__}')
    name = getattr(cfg, 'filename', None) or 'the config'
    model = MODELS.build(model_config(cfg))
    if checkpoint is not None:
        # weights_only=True passed by load_whole, not left to torch's default (an environment variable turns it off)
        whole = load_whole(checkpoint)
        state = under_state_dict(whole)
        try:  # strict: a checkpoint of another model left the rest random, and its detections were printed
            _load_checkpoint_to_model(model, state, strict=True)
        except RuntimeError as err:
            raise ValueError(f'{checkpoint} does not fit {name}: {" ".join(str(err).split())[:400]}') from None
        meta = whole.get('meta') if isinstance(whole, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get('dataset_meta'), dict):
            model.dataset_meta = meta['dataset_meta']
    model.cfg = cfg
    return model.to(device).eval()


def _pipeline(model: nn.Module, pipeline) -> list[Callable]:
    if pipeline is None:
        cfg = getattr(model, 'cfg', None)
        pipeline = cfg.test_dataloader.dataset.pipeline if cfg is not None and 'test_dataloader' in cfg \
            else DEFAULT_PIPELINE
    if not isinstance(pipeline, (Compose, list, tuple)):
        raise TypeError(f'inference_detector: pipeline must be a list of transforms (dicts or callables) or a '
                        f'Compose; got {type(pipeline).__name__}')
    transforms = list(pipeline.transforms) if isinstance(pipeline, Compose) else \
        [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
    # images to predict carry no annotations: mmdet-style test pipelines load them (KeyError 'instances' here)
    return [t for t in transforms if type(t).__name__ not in ANNOTATION_LOADERS]


def inference_detector(model: nn.Module, image: str | np.ndarray | Sequence[str | np.ndarray],
                       pipeline: Sequence[dict | Callable] | Compose | None = None
                       ) -> BaseDataElement | list[BaseDataElement]:
    """Predict on one image (path or HxWxC uint8 array) or a list; returns data samples with ``pred_instances``
    (bboxes, scores, labels[, masks]) in the image's own pixels.

    ``pipeline`` defaults to ``model.cfg``'s test pipeline (set by init_detector), else load + pack; steps that
    load annotations are left out. Arrays skip the loading step (``LoadImageFromFile``, or a U-Net's
    ``LoadImageAndMask``) and must be RGB (not OpenCV's BGR), grey or RGBA,
    uint8; they are brought to the model's channels as files are. Each image runs alone, as in mmdet: batched
    with a larger one, an image was padded and its detections changed.
    """
    images = list(image) if isinstance(image, (list, tuple)) else [image]
    if not images:  # mmdet's answer to no images; the collate step failed on an IndexError
        return []
    transforms = _pipeline(model, pipeline)
    channels = getattr(model.backbone, 'in_channels', 3)
    samples = []
    for index, img in enumerate(images):
        if is_path(img):
            results, steps = dict(img_path=os.fspath(img), img_id=0), transforms
        else:
            arr = array_channels(img, channels, f'inference_detector: image {index}')
            results = dict(img=arr, img_shape=arr.shape[:2], ori_shape=arr.shape[:2], img_id=0)
            steps = [t for t in transforms if not isinstance(t, IMAGE_LOADERS)]
        samples.append((results, steps))
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for results, steps in samples:
            for step in steps:
                results = step(results)
            if not isinstance(results, dict) or not {'inputs', 'data_samples'} <= set(results):
                raise ValueError(f'inference_detector: the pipeline must end in a packing step (PackDetInputs, '
                                 f'PackInputs, PackSegInputs) that gives inputs and data_samples; its last step '
                                 f'{type(steps[-1]).__name__ if steps else "(none)"} gave '
                                 f'{sorted(results) if isinstance(results, dict) else type(results).__name__}')
            with torch.no_grad():
                data = model.data_preprocessor(pseudo_collate([results]), False)
                outputs += model(**data, mode='predict')
    finally:
        model.train(was_training)
    return outputs if isinstance(image, (list, tuple)) else outputs[0]
