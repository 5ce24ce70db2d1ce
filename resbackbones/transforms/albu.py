"""Bridge to albumentations: build its transforms by name from config dicts and apply them to ``img``.

albumentations 2 draws from its own generators, seeded from the operating system unless given a seed, so a run's
``randomness.seed`` would not fix its augmentations. ``seeded`` seeds them from torch's generator at the first call
in each process: augmentations then follow the run's seed, and data loader workers (which PyTorch seeds per worker
and epoch) draw differently from each other and from epoch to epoch.

albumentations is imported on first use, not with the package: it pulls in scipy and costs about a second per
interpreter, which every tool and worker process would pay whether or not its pipeline has an ``Albu`` step.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import os
from types import ModuleType
from typing import Any, Iterator, Sequence

from mmcv.transforms import BaseTransform
import numpy as np
import torch

from ..registry import TRANSFORMS
from .image_only import refuse_geometric_annotations


def albumentations() -> ModuleType:
    """The albumentations module (imported once, when a transform is first built)."""
    return importlib.import_module('albumentations')


def _albu_bases() -> tuple[type, type]:
    return (importlib.import_module('albumentations.core.transforms_interface').BasicTransform,
            importlib.import_module('albumentations.core.composition').BaseCompose)


def _albu_names() -> list[str]:
    return sorted(n for n, obj in vars(albumentations()).items()
                  if inspect.isclass(obj) and issubclass(obj, _albu_bases()))


def build_albu(cfg: dict) -> Any:
    """One albumentations transform from ``dict(type=Name, **kwargs)``; 'transforms' of OneOf etc. recurse.

    Unknown names and argument names raise ValueError naming them (albumentations itself only warns on
    unknown arguments, which would silently drop an augmentation).
    """
    if not isinstance(cfg, dict) or not isinstance(cfg.get('type'), str):
        raise ValueError(f"Albu: each transform must be a dict with a 'type' name, e.g. "
                         f"dict(type='HorizontalFlip', p=0.5); got {cfg!r}")
    kwargs = {k: v for k, v in dict(cfg).items() if k != 'type'}
    name = cfg['type']
    cls = getattr(albumentations(), name, None)
    if not (inspect.isclass(cls) and issubclass(cls, _albu_bases())):
        close = difflib.get_close_matches(name, _albu_names(), n=3)
        hint = f'; did you mean {close}?' if close else ' (see albumentations.readthedocs.io for the names)'
        raise ValueError(f'Albu: unknown albumentations transform {name!r}{hint}')
    params = inspect.signature(cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise ValueError(f'Albu: {name} has no argument(s) {unknown}; it takes {list(params)}')
    if issubclass(cls, _albu_bases()[1]) and 'transforms' in kwargs:
        kwargs['transforms'] = [build_albu(t) for t in kwargs['transforms']]
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f'Albu: cannot build {name} with {kwargs}: {err}') from err


def seeded(compose: Any) -> Any:
    """``compose`` (an albumentations Compose), its generators seeded from torch's if this process has not yet done
    so (a forked worker has not: it gets a seed of its own); returns it for calling."""
    if getattr(compose, '_seeded_in_process', None) != os.getpid():
        compose.set_random_seed(int(torch.randint(0, 2**31 - 1, ())))
        compose._seeded_in_process = os.getpid()
    return compose


def each_transform(transforms: Sequence[Any]) -> Iterator[Any]:
    """Every built albumentations transform, those nested in OneOf / Sequential etc. included."""
    for t in transforms:
        yield t
        yield from each_transform(getattr(t, 'transforms', ()))


def pixel_moving(transforms: Sequence[Any]) -> list[str]:
    """Names of the built transforms (nested ones too) that move pixels (albumentations' DualTransform: flips, crops,
    warps), as opposed to those that only change their values (ImageOnlyTransform)."""
    dual = importlib.import_module('albumentations.core.transforms_interface').DualTransform
    return [type(t).__name__ for t in each_transform(transforms) if isinstance(t, dual)]


@TRANSFORMS.register_module()
class Albu(BaseTransform):
    """Apply albumentations transforms, given as config dicts, to ``results['img']`` (HxWxC numpy).

    Args:
        transforms: e.g. ``[dict(type='RandomResizedCrop', size=(224, 224)), dict(type='HorizontalFlip', p=0.5)]``.
    """

    def __init__(self, transforms: Sequence[dict]):
        if isinstance(transforms, dict) or not isinstance(transforms, Sequence) or not transforms:
            raise ValueError(f'Albu: transforms must be a non-empty list of dicts; got {transforms!r}')
        self.transforms = [dict(t) if isinstance(t, dict) else t for t in transforms]
        self.aug = albumentations().Compose([build_albu(t) for t in self.transforms])
        self.geometric = pixel_moving(self.aug.transforms)

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(f"Albu needs results['img'] as an HxWxC array (put LoadImageFromFile first); "
                             f"got {type(img).__name__} for {results.get('img_path', 'a sample')}")
        if self.geometric:
            refuse_geometric_annotations(results, f'Albu moves the image alone ({", ".join(self.geometric)})')
        out = seeded(self.aug)(image=img)['image']
        results['img'] = out[..., None] if out.ndim == 2 else out
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r})'
