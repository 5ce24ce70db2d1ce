"""Named models: each is a row of settings over the shared ResNet core (torchvision's builder pattern)."""
from __future__ import annotations

import difflib
import fnmatch

# Every named model is a backbone config. Named models behave like torchvision's: batch norms train normally.
NAMED_MODELS: dict[str, dict] = {
    'resnet18': dict(type='ResNet', depth=18),
    'resnet34': dict(type='ResNet', depth=34),
    'resnet50': dict(type='ResNet', depth=50),
    'resnet101': dict(type='ResNet', depth=101),
    'resnet152': dict(type='ResNet', depth=152),
    'resnet50_caffe': dict(type='ResNet', depth=50, style='caffe'),
    'resnet101_caffe': dict(type='ResNet', depth=101, style='caffe'),
    'resnet152_caffe': dict(type='ResNet', depth=152, style='caffe'),
    'resnet50c': dict(type='ResNetV1c', depth=50),
    'resnet50d': dict(type='ResNetV1d', depth=50),
    'resnet101d': dict(type='ResNetV1d', depth=101),
    'resnext50_32x4d': dict(type='ResNeXt', depth=50, groups=32, base_width=4),
    'resnext101_32x8d': dict(type='ResNeXt', depth=101, groups=32, base_width=8),
    'wide_resnet50_2': dict(type='ResNet', depth=50, base_width=128),
    'wide_resnet101_2': dict(type='ResNet', depth=101, base_width=128),
}
NAMED_DEFAULTS = dict(norm_eval=False)


def matching(table: dict[str, dict], pattern: str = '*') -> list[str]:
    """Names in a table of named models that match a shell-style ``pattern``, sorted."""
    return sorted(name for name in table if fnmatch.fnmatch(name, pattern))


def lookup(table: dict[str, dict], name: str, kind: str) -> dict:
    """``table[name]``; ValueError naming the ``kind`` of model and suggesting close names otherwise."""
    if name not in table:
        close = difflib.get_close_matches(name, table, n=3)
        hint = f'; did you mean {close}?' if close else ''
        raise ValueError(f'unknown {kind} name {name!r}{hint} Known: {matching(table)}')
    return table[name]


def list_models(pattern: str = '*') -> list[str]:
    """Names of the named models matching a shell-style ``pattern`` (e.g. 'resnext*'), sorted."""
    if not isinstance(pattern, str):  # fnmatch's bare TypeError otherwise
        raise ValueError(f"list_models: pattern must be a string such as 'resnet*'; got {pattern!r}")
    return matching(NAMED_MODELS, pattern)


def model_config(name: str, **overrides) -> dict:
    """The backbone config of a named model with ``overrides`` applied; ValueError suggests close names."""
    return {**lookup(NAMED_MODELS, name, 'model'), **NAMED_DEFAULTS, **overrides}
