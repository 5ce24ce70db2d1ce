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

from ..registry import MODELS, TRANSFORMS
from ..transforms import LoadImageFromFile
from ..weights.io import load_whole, under_state_dict

DEFAULT_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackDetInputs')]


def init_detector(config: str | Config, checkpoint: str | None = None, device: str = 'cpu') -> nn.Module:
    """Build the config's model in eval mode on ``device``, load ``checkpoint`` (ours or mmengine's) if given,
    and keep the config as ``model.cfg`` so ``inference_detector`` uses its test pipeline."""
    cfg = Config.fromfile(config) if isinstance(config, (str, os.PathLike)) else config
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        # weights_only=True passed by load_whole, not left to torch's default (an environment variable turns it off)
        state = under_state_dict(load_whole(checkpoint))
        try:  # strict: a checkpoint of another model left the rest random, and its detections were printed
            _load_checkpoint_to_model(model, state, strict=True)
        except RuntimeError as err:
            raise ValueError(f'{checkpoint} does not fit {getattr(cfg, "filename", None) or "the config"}: '
                             f'{" ".join(str(err).split())[:400]}') from None
    model.cfg = cfg
    return model.to(device).eval()


def _pipeline(model: nn.Module, pipeline) -> list[Callable]:
    if pipeline is None:
        cfg = getattr(model, 'cfg', None)
        pipeline = cfg.test_dataloader.dataset.pipeline if cfg is not None and 'test_dataloader' in cfg \
            else DEFAULT_PIPELINE
    if isinstance(pipeline, Compose):
        return list(pipeline.transforms)
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


def inference_detector(model: nn.Module, image: str | np.ndarray | Sequence[str | np.ndarray],
                       pipeline: Sequence[dict | Callable] | Compose | None = None
                       ) -> BaseDataElement | list[BaseDataElement]:
    """Predict on one image (path or HxWxC uint8 array) or a list; returns data samples with ``pred_instances``
    (bboxes, scores, labels[, masks]) in the image's own pixels.

    ``pipeline`` defaults to ``model.cfg``'s test pipeline (set by init_detector), else load + pack. For arrays
    the loading step is skipped: give them in the channel order and count the model expects (RGB or grey).
    """
    images = list(image) if isinstance(image, (list, tuple)) else [image]
    if not images:  # mmdet's answer to no images; the collate step failed on an IndexError
        return []
    transforms = _pipeline(model, pipeline)
    samples = []
    for img in images:
        if isinstance(img, np.ndarray):
            arr = img[..., None] if img.ndim == 2 else img
            results = dict(img=arr, img_shape=arr.shape[:2], ori_shape=arr.shape[:2], img_id=0)
            steps = [t for t in transforms if not isinstance(t, LoadImageFromFile)]
        else:
            results, steps = dict(img_path=os.fspath(img), img_id=0), transforms
        for step in steps:
            results = step(results)
        samples.append(results)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            data = model.data_preprocessor(pseudo_collate(samples), False)
            outputs = model(**data, mode='predict')
    finally:
        model.train(was_training)
    return outputs if isinstance(image, (list, tuple)) else outputs[0]
