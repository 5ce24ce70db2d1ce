"""From config + checkpoint to a deployable model and real input batches (example, calibration).

The checkpoint must match the config exactly (strict loading): a deployed model with silently missing weights
would be fast and wrong. Inputs come from the config's own dataloaders and data preprocessor, so calibration
and checks see what the model sees at test time.
"""
from __future__ import annotations

import copy
from itertools import islice, product

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn

from ..engine.config import dataset_chain, model_config
from ..registry import MODELS
from ..weights.io import read_checkpoint
from ..apis.sliding_window import pad_to_at_least
from ..models.unet import pad_to_multiple
from .targets import kind_of


def load_task_model(cfg: Config, checkpoint: str) -> nn.Module:
    """``cfg.model`` built in eval mode with ``checkpoint``'s weights; ValueError naming the keys that differ.
    A top-level ``data_preprocessor`` (mmpretrain's layout) goes into the model, as mmengine's Runner puts it."""
    model = MODELS.build(model_config(cfg))
    state = read_checkpoint(checkpoint).state
    own = model.state_dict()
    # BatchNorm's step counter: older and converted checkpoints lack it, torch's strict load fills it in, and
    # nothing at inference reads it
    state = {**{k: v for k, v in own.items() if k.endswith('.num_batches_tracked') and k not in state}, **state}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in own
              if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = [f'{len(missing)} missing (e.g. {missing[:2]})' if missing else '',
                 f'{len(unexpected)} unexpected (e.g. {unexpected[:2]})' if unexpected else '',
                 f'{len(shapes)} of other shape (e.g. {shapes[:1]})' if shapes else '']
        raise ValueError(f'checkpoint {checkpoint} does not match config {cfg.filename}: keys '
                         + ', '.join(p for p in parts if p))
    model.load_state_dict(state, strict=True)
    return model.eval()


def real_batches(cfg: Config, model: nn.Module, split: str, count: int) -> list[torch.Tensor]:
    """Up to ``count`` preprocessed input batches (N, C, H, W) from real images of ``split`` ('train' or 'test').

    The train split is read with the test pipeline (no augmentation), for calibration on unseen-at-test images
    (``calibration_dataset``), in a seeded random order: read in order, a class-sorted folder gave the first
    classes only (2 of 10 digits). Segmentors in 'slide' mode get patch-sized crops (what the network sees),
    for calibration ``count`` of them drawn at random from ``count`` batches (not the first image's first windows);
    inputs of other sizes are padded to a multiple of the model's deepest stride.
    """
    key = f'{split}_dataloader'
    if cfg.get(key) is None:
        raise ValueError(f'config {cfg.filename} has no {key} to read real images from')
    loader_cfg = copy.deepcopy(cfg[key])
    if split == 'train':
        loader_cfg['dataset'] = calibration_dataset(loader_cfg['dataset'], cfg.test_dataloader.dataset.pipeline)
        loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=True, seed=0)
        loader_cfg['num_workers'], loader_cfg['persistent_workers'] = 0, False
    init_default_scope(cfg.get('default_scope', 'resbackbones'))  # the datasets and transforms named in cfg
    loader = Runner.build_dataloader(loader_cfg)
    batches = []
    with torch.no_grad():
        for data in islice(loader, count):
            inputs = model.data_preprocessor(data, False)['inputs']
            if not isinstance(inputs, torch.Tensor):
                raise ValueError(f'{key} of {cfg.filename}: the model\'s data preprocessor gave '
                                 f'{type(inputs).__name__} inputs, not one batch tensor; give the model a '
                                 'data_preprocessor that stacks them')
            batches.extend(_shape_for(model, inputs))
            if len(batches) >= count and split != 'train':
                break
    if not batches:
        raise ValueError(f'{key} of {cfg.filename} yielded no images')
    if split == 'train' and len(batches) > count:  # windows of several images, not one image's first row
        chosen = torch.randperm(len(batches), generator=torch.Generator().manual_seed(0))[:count]
        return [batches[i] for i in sorted(chosen.tolist())]
    return batches[:count]


def is_loader(transform: dict | object) -> bool:
    """Whether a pipeline step reads the sample from its source (LoadImageFromFile, LoadImageFromBytes, ...)."""
    name = transform.get('type', '') if isinstance(transform, dict) else type(transform).__name__
    return isinstance(name, str) and name.startswith('Load')


def calibration_dataset(train: dict, test_pipeline: list) -> dict:
    """The train split's dataset config read with the test pipeline.

    A wrapper that draws its samples from an inner dataset (``HalfComposedFaceDataset``'s composed identities,
    mmengine's RepeatDataset, ...) is unwrapped to that dataset, so calibration sees the training images themselves.
    The inner dataset keeps its own loading steps when it has some: its source may need another loader than the
    test split's (identity folders of files against a verification .bin of bytes); the test pipeline's other steps
    follow them.
    """
    inner = dataset_chain(train)[-1]
    if isinstance(inner.get('datasets'), (list, tuple)):  # ConcatDataset: each part read with the test pipeline
        return dict(type=inner.get('type', 'ConcatDataset'),
                    datasets=[calibration_dataset(d, test_pipeline) for d in inner['datasets']])
    wrapped = inner is not train
    inner, test_pipeline = copy.deepcopy(inner), copy.deepcopy(list(test_pipeline))
    loaders = [t for t in inner.get('pipeline', []) if is_loader(t)] if wrapped else []
    inner['pipeline'] = (loaders + [t for t in test_pipeline if not is_loader(t)]) if loaders else test_pipeline
    return inner


def _shape_for(model: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    if kind_of(model) != 'segmentor':
        return [inputs]
    divisors = model.divisors
    test_cfg = model.test_cfg
    if test_cfg['mode'] != 'slide':
        return [pad_to_multiple(inputs, divisors)]
    size = test_cfg['patch_size']
    patch = (size,) * len(divisors) if isinstance(size, int) else tuple(size)
    sizes = inputs.shape[-len(patch):]
    padded = pad_to_at_least(inputs, patch)
    starts = product(*(range(0, max(n - k, 0) + 1, k) for n, k in zip(sizes, patch)))
    return [padded[(..., *(slice(s, s + k) for s, k in zip(start, patch)))] for start in starts]
