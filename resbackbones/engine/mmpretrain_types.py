"""mmpretrain (mmcls) types inside mmaction2 configs, rewritten to this project's equivalents.

mmaction2's OmniSource config reads its image source with ``type='mmcls.ImageNet'``, ``'mmcls.RandomResizedCrop'``,
``'mmcls.RandomFlip'`` and ``'mmcls.PackClsInputs'``: types of another package's registry, which is not installed
here. Each has a counterpart: the list dataset that reads ImageNet's ``meta/train.txt`` format, albumentations'
crop and flip (same sampling ranges), our PackInputs; and mmpretrain's ResNet / ResNeXt / ResNetV1c / ResNetV1d
backbones (TSN's custom-backbone configs) are ours. The rewrite is printed; a type without a counterpart is a
ValueError naming where it sits in the config.
"""
from __future__ import annotations

from typing import Any, Callable

import cv2

from .typed_dicts import typed_dicts

PREFIXES = ('mmcls.', 'mmpretrain.')
INTERPOLATION = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR, 'bicubic': cv2.INTER_CUBIC,
                 'area': cv2.INTER_AREA, 'lanczos': cv2.INTER_LANCZOS4}


def _only(where: str, name: str, cfg: dict, allowed: dict[str, Any]) -> dict:
    """The config's arguments over ``allowed``'s defaults; an argument not in ``allowed`` is refused by name."""
    unknown = sorted(set(cfg) - {'type'} - set(allowed))
    if unknown:
        raise ValueError(f'{where}: {name} arguments {unknown} are not supported here (only {sorted(allowed)})')
    return {**allowed, **{k: v for k, v in cfg.items() if k != 'type'}}


def _random_resized_crop(where: str, cfg: dict) -> dict:
    args = _only(where, 'RandomResizedCrop', cfg, dict(scale=None, crop_ratio_range=(0.08, 1.0),
                                                       aspect_ratio_range=(3. / 4., 4. / 3.), max_attempts=10,
                                                       interpolation='bilinear', backend='cv2'))
    scale = args['scale']
    if isinstance(scale, int):
        height = width = scale
    elif isinstance(scale, (tuple, list)) and len(scale) == 2:
        height, width = scale  # mmpretrain's (h, w) order: it resizes to scale[::-1] with mmcv's (w, h) imresize
    else:
        raise ValueError(f'{where}: RandomResizedCrop needs scale=S or (h, w); got {scale!r}')
    for key, value in (('max_attempts', 10), ('backend', 'cv2')):  # what albumentations' crop does, fixed
        if args[key] != value:
            raise ValueError(f'{where}: RandomResizedCrop {key}={args[key]!r} is not supported here: the crop runs '
                             f"as albumentations' RandomResizedCrop, which makes {value!r} its only {key}")
    if not isinstance(args['interpolation'], str) or args['interpolation'] not in INTERPOLATION:
        raise ValueError(f"{where}: RandomResizedCrop interpolation must be one of {sorted(INTERPOLATION)}; got "
                         f"{args['interpolation']!r}")
    crop = dict(type='RandomResizedCrop', size=(height, width), scale=tuple(args['crop_ratio_range']),
                ratio=tuple(args['aspect_ratio_range']), interpolation=INTERPOLATION[args['interpolation']])
    return dict(type='Albu', transforms=[crop])


def _random_flip(where: str, cfg: dict) -> dict:
    args = _only(where, 'RandomFlip', cfg, dict(prob=None, direction='horizontal'))
    flips = {'horizontal': 'HorizontalFlip', 'vertical': 'VerticalFlip'}
    if not isinstance(args['direction'], str) or args['direction'] not in flips \
            or not isinstance(args['prob'], (int, float)):
        raise ValueError(f"{where}: RandomFlip needs a number prob and direction 'horizontal' or 'vertical'; got "
                         f"prob={args['prob']!r}, direction={args['direction']!r}")
    return dict(type='Albu', transforms=[dict(type=flips[args['direction']], p=float(args['prob']))])


def _pack(where: str, cfg: dict) -> dict:
    _only(where, 'PackClsInputs', cfg, dict(meta_keys=None))  # mmpretrain's meta keys name its own sample fields
    return dict(type='PackInputs')


def _image_list(where: str, cfg: dict) -> dict:
    args = _only(where, 'ImageNet', cfg, dict(data_root='', ann_file='', data_prefix='', pipeline=(),
                                              test_mode=False, lazy_init=False, indices=None))
    if not args['ann_file']:
        raise ValueError(f'{where}: ImageNet without ann_file (class folders) is ImageFolderDataset here; give '
                         "ann_file ('meta/train.txt': one 'path label' line per image)")
    return dict(type='AnnotationListDataset', **args)


# mmpretrain's ResNet defaults where ours (mmdet's) differ: its batch norms train, and it returns the last stage
MMPRETRAIN_RESNET_DEFAULTS = dict(norm_eval=False, out_indices=(3,))


def _resnet(name: str) -> Callable[[str, dict], dict]:
    """mmpretrain's ResNet family (TSN's custom-backbone configs) is ours under the same name and arguments, but
    for ResNeXt's ``width_per_group``, which is our ``base_width``, and mmpretrain's defaults for what the config
    leaves out (an mmaction2 config fine-tuned with every batch norm frozen, our mmdet-style default)."""
    def translate(where: str, cfg: dict) -> dict:
        args = {**MMPRETRAIN_RESNET_DEFAULTS, **{k: v for k, v in cfg.items() if k != 'type'}}
        if 'width_per_group' in args:
            args['base_width'] = args.pop('width_per_group')
        return dict(type=name, **args)
    return translate


TRANSLATIONS: dict[str, Callable[[str, dict], dict]] = {
    'ImageNet': _image_list, 'CustomDataset': _image_list, 'RandomResizedCrop': _random_resized_crop,
    'RandomFlip': _random_flip, 'PackClsInputs': _pack,
    **{name: _resnet(name) for name in ('ResNet', 'ResNeXt', 'ResNetV1c', 'ResNetV1d')}}


def translate_mmpretrain_types(node: Any, where: str = 'config') -> list[str]:
    """Rewrite, in place, every ``dict(type='mmcls.X' or 'mmpretrain.X')`` under ``node`` (a config or any part of
    it); returns the rewrites as 'where: old -> new' lines. ValueError names a type that has no counterpart."""
    done = []
    for path, child, kind in typed_dicts(node, where):
        if kind.startswith(PREFIXES):
            name = kind.split('.', 1)[1]
            if name not in TRANSLATIONS:
                raise ValueError(f'{path}: {kind!r} is a type of mmpretrain (mmcls), which is not installed; the '
                                 f'ones translated here are {sorted(TRANSLATIONS)}')
            new = TRANSLATIONS[name](path, dict(child))
            child.clear()
            child.update(new)
            done.append(f"{path}: {kind!r} -> {new['type']!r}")
    return done
