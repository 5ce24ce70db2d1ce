"""Face inference in two calls: ``init_recognizer(config, checkpoint)`` and ``embed_faces(model, images)``.

Images are aligned crops (or 5-point landmarks are given to align them); each is loaded in the channel count of the
model's backbone, resized to its ``input_size`` when it differs, normalised by the model's data preprocessor and
embedded, optionally with insightface's flip test. Embeddings come back L2-normalised, so their dot product is the
cosine similarity that verification thresholds.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

from ..datasets.image_folder import IMG_EXTENSIONS
from ..engine.config import load_config, model_config
from ..registry import MODELS
from ..transforms import Resize, align_face
from ..transforms.loading import read_image
from ..weights.insightface import load_insightface
from ..weights.io import read_checkpoint
from ..weights.sources import detect_source
from .image_arrays import array_channels


def init_recognizer(config: str | Config, checkpoint: str | None = None, device: str = 'cpu') -> nn.Module:
    """The config's FaceRecognizer in eval mode, with ``checkpoint`` loaded all or nothing (read with
    ``weights_only=True``): a training checkpoint of ours, whose margin head may be absent (it is not used here),
    or insightface's ``model.pt`` / ``backbone.pth``. ``config``: a path (ours, or arcface_torch's as
    ``tools/train.py`` takes it) or a Config."""
    cfg = load_config(os.fspath(config)) if isinstance(config, (str, os.PathLike)) else config
    name = getattr(cfg, 'filename', None) or 'the config'  # a Config's repr is the whole config
    model = MODELS.build(model_config(cfg))
    if model.__class__.__name__ != 'FaceRecognizer':
        raise ValueError(f'{name}: model.type is {cfg.model.get("type")!r}; face embedding needs a FaceRecognizer')
    if checkpoint is not None:
        ckpt = read_checkpoint(checkpoint)
        if detect_source(ckpt)[0] == 'insightface':  # as tools/test.py loads it
            load_insightface(model, ckpt, strict=True)
            return model.to(device).eval()
        state = {k: v for k, v in ckpt.state.items() if not k.startswith('margin_head.')}
        target = model.state_dict()
        shapes = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(target[k].shape)}' for k, v in state.items()
                  if k in target and v.shape != target[k].shape]
        missing = [k for k in target if k not in state and not k.startswith('margin_head.')]
        unexpected = [k for k in state if k not in target]
        if missing or unexpected or shapes:  # checked before loading: a shape mismatch was a torch traceback
            raise ValueError(f'{checkpoint} does not fit {name}: missing {missing[:5]}, unexpected '
                             f'{unexpected[:5]}, shapes {shapes[:3]}')
        model.load_state_dict({**target, **state})
    return model.to(device).eval()


def list_images(inputs: Sequence[str]) -> list[str]:
    """Image paths from files and folders (a folder: its images, recursively, sorted); errors name a bad input."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):  # hidden files and folders (macOS ._x.png, .ipynb_checkpoints) are no images
            found = sorted(os.path.join(d, f) for d, _, files in os.walk(item) for f in files
                           if f.lower().endswith(IMG_EXTENSIONS) and not f.startswith('.')
                           and not any(part.startswith('.') for part in os.path.relpath(d, item).split(os.sep)
                                       if part != '.'))
            if not found:
                raise ValueError(f'folder {item} holds no images ({", ".join(IMG_EXTENSIONS)})')
            paths += found
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f'image or folder not found: {item}')
    return paths


@torch.no_grad()
def embed_faces(model: nn.Module, images: Sequence[str | np.ndarray], landmarks: Sequence | None = None,
                flip: bool | None = None, batch_size: int = 64) -> np.ndarray:
    """(N, D) L2-normalised embeddings of ``images`` (paths, or uint8 arrays HxW, HxWx1, HxWx3 in RGB order (not
    OpenCV's BGR) or HxWx4; one image alone gives N = 1), brought to the backbone's channels as files are. The model
    runs in eval mode (its training flag is restored after).

    Args:
        landmarks: one (5, 2) array per image to align it first (ArcFace template; square input sizes only), or
            None for aligned crops.
        flip: add the embedding of the mirrored image before normalising (insightface's flip test); None: the
            model's ``flip_test``, as its predict (tools/test.py) embeds, so that thresholds found there apply.
    """
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    elif not isinstance(images, (list, tuple)):  # one image, not a sequence of its rows (or a PIL image, named)
        images = [images]
        landmarks = [landmarks] if landmarks is not None and np.asarray(landmarks).ndim == 2 else landmarks
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f'embed_faces: batch_size must be an integer >= 1; got {batch_size!r}')
    flip = getattr(model, 'flip_test', False) if flip is None else flip
    images = [os.fspath(img) if isinstance(img, os.PathLike) else img for img in images]
    channels = getattr(model.backbone, 'in_channels', 3)
    resize = Resize(tuple(model.input_size))
    if landmarks is not None and len(landmarks) != len(images):
        raise ValueError(f'embed_faces: {len(landmarks)} landmark sets for {len(images)} images')
    if landmarks is not None and model.input_size[0] != model.input_size[1]:  # the resize then squashed the face
        raise ValueError(f'embed_faces: landmarks align to a square ArcFace template, but the model takes '
                         f'{tuple(model.input_size)} crops; align them yourself and pass the crops')
    if not images:
        return np.zeros((0, model.embedding.fc.out_features), np.float32)
    was_training = model.training
    model.eval()  # no BatchNorm statistics written, and each image's embedding independent of its batch-mates
    try:
        return _embed(model, images, landmarks, flip, batch_size, channels, resize)
    finally:
        model.train(was_training)


def _embed(model: nn.Module, images: list, landmarks: Sequence | None, flip: bool, batch_size: int, channels: int,
           resize: Resize) -> np.ndarray:
    out = []
    for start in range(0, len(images), batch_size):
        batch = []
        for i in range(start, min(start + batch_size, len(images))):
            img = images[i]
            img = read_image(img, 'grayscale' if channels == 1 else 'color') if isinstance(img, str) else \
                array_channels(img, channels, f'embed_faces: image {i}')
            if landmarks is not None:
                img = align_face(img, landmarks[i], model.input_size[0], where=f'image {i}')
            batch.append(torch.from_numpy(np.ascontiguousarray(resize(dict(img=img))['img'].transpose(2, 0, 1))))
        inputs = model.data_preprocessor(dict(inputs=batch), False)['inputs']
        emb = model.extract_feat(inputs)
        if flip:
            emb = emb + model.extract_feat(inputs.flip(-1))
        out.append(F.normalize(emb).cpu().numpy())
    return np.concatenate(out)
