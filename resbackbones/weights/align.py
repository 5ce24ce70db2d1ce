"""Rename checkpoint backbone keys onto the target's names, by comparing with the target's keys.

Four differences between ResNet implementations are only in naming or child indices, and each is resolved by
looking at what the target has rather than by hard-coding stage numbers or sources:

- timm's deep stem is ``conv1.{0,1,3,4,6}`` + ``bn1``; ours (mmdet's) is ``stem.{0,1,3,4,6}`` + ``stem.7``.
- avg-down shortcuts: timm (and mmdet) keep a parameter-free pool at ``downsample.0`` in every stage, so the conv
  and norm are ``.1``/``.2`` even where ours, in a stride-1 stage, has no pool (``.0``/``.1``). Which child holds
  the 1x1 conv also tells the two shortcut forms apart (``.0``: a strided conv, ResNet/ResNet-C; ``.1``: a pool
  first, ResNet-D); a shortcut that downsamples in the model and has the other form in the checkpoint is refused,
  since renumbering it would load ResNet-C weights into a ResNet-D (or back) without any key missing.
- mmpretrain's deep stem: three mmcv ConvModules ``stem.K.conv`` / ``stem.K.bn`` (``.gn``); ours (mmdet's) is a
  plain Sequential with convs at ``stem.0/3/6`` and norms at ``stem.1/4/7``.
- mmdet names group-norm layers ``gn1``, ``gn2`` ...; ours are always ``bn1`` ... whatever the norm type.
- mmcv ``ConvModule`` pairs (mmaction2's ResNet3d): ``convK.conv``/``convK.bn`` are our ``convK``/``bnK`` (the
  stem's ``conv1.bn`` is ``bn1``), and ``downsample.conv``/``downsample.bn`` are ``downsample.0``/``.1``.
- mmaction2's ``Conv2plus1d`` (R(2+1)D) names its parts ``conv_s``, ``bn_s``, ``conv_t``; ours follow torchvision's
  ``Conv2Plus1D`` children ``0``, ``1``, ``3``.
- mmaction2's CSN bottlenecks keep their factorised 3x3x3 conv as a Sequential of ConvModules: ``conv2.0`` is the
  depthwise conv ('ir'), or the 1x1x1 interaction conv followed by the depthwise ``conv2.1`` ('ip'); ours are
  ``conv2``/``bn2`` and ``conv2_interaction``/``bn2_interaction``.
- wrapper modules (mmaction2's TSM): ``TemporalShift`` and ``TemporalPool`` keep the module they wrap as ``.net``,
  ``NL3DWrapper`` as ``.block``; ours are BlockAddons beside the block's layers, so those segments are dropped.
  mmaction2's TIN wraps ``conv1.conv`` in a ``CombineNet``: ``.net1`` the interlace (ours: the block's
  ``interlace``), ``.net2`` the conv.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Collection, Mapping

import torch
from torch import nn

_DEEP_STEM = re.compile(r'^conv1\.(\d+)\.(.+)$')
_DOWNSAMPLE = re.compile(r'^(.*\.downsample\.)(\d+)\.(.+)$')
_GN = re.compile(r'(^|\.)gn(\d+)\.')
_CONV_MODULE = re.compile(r'^((?:.*\.)?)(conv(\d+)|downsample)\.(conv|bn)\.(.+)$')
_WRAPPER = re.compile(r'\.(?:net2?|block)(?=\.)')
_INTERLACE = re.compile(r'^(.*\.)conv1\.conv\.net1\.(.+)$')
_FACTORISED = re.compile(r'\.(conv_s|bn_s|conv_t)\.')
_FACTORISED_CHILD = {'conv_s': '0', 'bn_s': '1', 'conv_t': '3'}
_SEPARATED = re.compile(r'^((?:.*\.)?)conv2\.([01])\.(conv|bn)\.(.+)$')
_MM_STEM = re.compile(r'^((?:.*\.)?)stem\.(\d+)\.(conv|bn|gn)\.(.+)$')
# What a shortcut computes: a pool that downsamples, then a stride-1 1x1 conv (ResNet-D); a strided 1x1 conv
# (ResNet, ResNet-C, torchvision); or, where it does not downsample, either (the pool is an identity there).
AVG_POOL, STRIDED_CONV, EITHER = 'avg-pool', 'strided conv', 'either'
FORM_TEXT = {AVG_POOL: 'an avg-pool at child 0 and a stride-1 1x1 conv at child 1 (ResNet-D, avg_down=True)',
             STRIDED_CONV: 'a strided 1x1 conv at child 0 (ResNet / ResNet-C, avg_down=False)'}


def _stem_rename(key: str, target: Collection[str], last_norm: int | None) -> str:
    match = _DEEP_STEM.match(key)
    if match and key not in target:
        return f'stem.{match[1]}.{match[2]}'
    if key.startswith('bn1.') and key not in target and last_norm is not None:
        return f'stem.{last_norm}.{key[len("bn1."):]}'
    return key


def _conv_module_rename(key: str, target: Collection[str]) -> str:
    match = _CONV_MODULE.match(key)
    if not match or key in target:
        return key
    prefix, module, index, part, rest = match.groups()
    if module == 'downsample':
        new = f'{prefix}downsample.{0 if part == "conv" else 1}.{rest}'
    else:
        new = f'{prefix}{module if part == "conv" else "bn" + index}.{rest}'
    return new if new in target else key


def _unwrap(key: str, target: Collection[str]) -> str:
    """``key`` without wrapper segments (``.net``, ``.net2``, ``.block``) when it then names a target key, directly or
    as a ConvModule name; TIN's ``conv1.conv.net1.*`` as the block's ``interlace.*``; else ``key``."""
    if key in target:
        return key
    interlace = _INTERLACE.match(key)
    if interlace and f'{interlace[1]}interlace.{interlace[2]}' in target:
        return f'{interlace[1]}interlace.{interlace[2]}'
    bare = _WRAPPER.sub('', key)
    return bare if bare != key and (bare in target or _conv_module_rename(bare, target) in target) else key


def _factorised_rename(key: str, target: Collection[str]) -> str:
    """mmaction2's Conv2plus1d part names -> torchvision's child indices, when that names a target key."""
    if key in target:
        return key
    new = _FACTORISED.sub(lambda m: f'.{_FACTORISED_CHILD[m[1]]}.', key)
    return new if new != key and (new in target or _conv_module_rename(new, target) in target) else key


def _separated_rename(key: str, target: Collection[str]) -> str:
    """mmaction2's CSN ``conv2.N.conv`` / ``conv2.N.bn`` -> ours, by whether the target block has an interaction
    conv (then ``conv2.0`` is it and ``conv2.1`` the depthwise conv; else ``conv2.0`` is the depthwise conv)."""
    match = _SEPARATED.match(key)
    if not match or key in target:
        return key
    prefix, index, part, rest = match.groups()
    interaction = f'{prefix}conv2_interaction.weight' in target
    suffix = '_interaction' if interaction and index == '0' else ''
    if index == '1' and not interaction:
        return key
    new = f'{prefix}{"conv2" if part == "conv" else "bn2"}{suffix}.{rest}'
    return new if new in target else key


def _mm_stem_rename(key: str, target: Collection[str]) -> str:
    """mmpretrain's ConvModule deep stem ``stem.K.conv`` / ``stem.K.bn`` -> ours ``stem.3K`` / ``stem.3K+1``."""
    match = _MM_STEM.match(key)
    if not match or key in target:
        return key
    prefix, index, part, rest = match.groups()
    new = f'{prefix}stem.{3 * int(index) + (0 if part == "conv" else 1)}.{rest}'
    return new if new in target else key


def _norm_rename(key: str, target: Collection[str]) -> str:
    renamed = _GN.sub(r'\1bn\2.', key)
    return renamed if key not in target and renamed in target else key


def _children(names: Collection[str]) -> dict[str, set[int]]:
    """Per shortcut prefix (``layer2.0.downsample.``), the child indices that hold tensors."""
    found = defaultdict(set)
    for name in names:
        match = _DOWNSAMPLE.match(name)
        if match:
            found[match[1]].add(int(match[2]))
    return found


def _stride(module: nn.Module) -> int:
    stride = getattr(module, 'stride', 1)
    return max(stride) if isinstance(stride, tuple) else int(stride)


def shortcut_forms(backbone: nn.Module) -> dict[str, str]:
    """Per projection shortcut of ``backbone`` (prefix ``layer2.0.downsample.``), the form it computes:
    AVG_POOL, STRIDED_CONV, or EITHER where it does not downsample. Read off the modules, since the keys of a
    strided and a stride-1 conv shortcut are the same."""
    forms = {}
    for name, module in backbone.named_modules():
        if name.rsplit('.', 1)[-1] != 'downsample' or not isinstance(module, nn.Sequential) or not len(module):
            continue
        first = module[0]
        if isinstance(first, nn.modules.pooling._AvgPoolNd) and _stride(first) > 1:
            forms[f'{name}.'] = AVG_POOL
        else:
            conv = next((m for m in first.modules() if isinstance(m, nn.modules.conv._ConvNd)), first)
            forms[f'{name}.'] = STRIDED_CONV if _stride(conv) > 1 else EITHER
    return forms


def _downsample_maps(keys: Collection[str], target: Collection[str], forms: Mapping[str, str] | None,
                     old_of: Mapping[str, str]) -> dict[str, dict[int, int]]:
    """Per shortcut prefix, checkpoint child index -> target child index where the two orders differ.

    The checkpoint's form is read from the child holding the conv: a pool first when it is not ``.0``; at ``.0``, a
    strided conv, unless another shortcut of the file has a pool first (then a stride-1 one, fitting either).
    ``forms`` (``shortcut_forms`` of the model) gives the target's; without it, only the target's keys (a pool
    first, else unknown). A shortcut whose forms differ where the model downsamples raises ValueError.
    """
    ours, theirs = _children(target), _children(keys)
    # a file with a pool-first shortcut anywhere is avg-down (ResNet-D): its shortcuts with the conv at '.0' are
    # stride-1 ones (layer1, dilated stages), which fit either form, not ResNet-C's strided convs
    avg_down_file = any(min(indices) > 0 for indices in theirs.values())
    maps = {}
    for prefix, indices in theirs.items():
        want = ours.get(prefix, set())
        if not want:
            continue
        mine = AVG_POOL if min(want) > 0 else EITHER
        mine = forms.get(prefix, mine) if forms is not None else mine
        form = AVG_POOL if min(indices) > 0 else EITHER if avg_down_file else STRIDED_CONV
        if EITHER not in (mine, form) and form != mine:
            key = next(k for k in sorted(keys) if k.startswith(prefix))
            raise ValueError(
                f'shortcut {prefix[:-1]}: the checkpoint has {FORM_TEXT[form]} (key {old_of.get(key, key)}), the '
                f'model {FORM_TEXT[mine]}. ResNet-C and ResNet-D weights do not compute the same features: '
                f'use a checkpoint of the same variant, or build the model with avg_down={form == AVG_POOL}. '
                'The model was not changed.')
        if indices != want and len(indices) == len(want):
            maps[prefix] = dict(zip(sorted(indices), sorted(want)))
    return maps


def align_keys(state: dict[str, torch.Tensor], target: Collection[str], forms: Mapping[str, str] | None = None
               ) -> tuple[dict[str, torch.Tensor], dict[str, str], list[str]]:
    """Rename ``state``'s keys towards ``target``'s names.

    ``forms``: the model's ``shortcut_forms``, so that a strided-conv shortcut is not loaded into an avg-pool one
    or back (ValueError); without it only a target with a pool first is told apart.
    Returns the renamed dict, a map new key -> old key, and one note per kind of rename applied.
    """
    target = set(target)
    bare = {k: _separated_rename(_factorised_rename(_unwrap(k, target), target), target) for k in state}
    first_name = {_mm_stem_rename(_conv_module_rename(bare[k], target), target): k for k in state}
    kinds = set()
    if any(_unwrap(k, target) != k for k in state):
        kinds.add("mmaction2 TSM / TIN wrappers: '.net' / '.block' segments dropped, TIN's '.net1' -> interlace")
    if any(_FACTORISED.search(k) and b != _unwrap(k, target) for k, b in bare.items()):
        kinds.add('mmaction2 Conv2plus1d names: conv_s/bn_s/conv_t -> 0/1/3')
    if any(_SEPARATED.match(k) and b != k for k, b in bare.items()):
        kinds.add('mmaction2 CSN names: conv2.N.conv/.bn -> conv2(_interaction)/bn2(_interaction)')
    if any(_MM_STEM.match(bare[old]) and new != bare[old] for new, old in first_name.items()):
        kinds.add('mmpretrain deep stem: stem.K.conv/.bn -> stem.3K/stem.3K+1')
    if any(new != bare[old] and not _MM_STEM.match(bare[old]) for new, old in first_name.items()):
        kinds.add("mmcv ConvModule names: convK.conv/.bn -> convK/bnK, downsample.conv/.bn -> downsample.0/.1")
    state = {new: state[old] for new, old in first_name.items()}
    stem_norms = [int(k.split('.')[1]) for k in target if k.startswith('stem.') and k.endswith('.running_var')]
    deep_target = 'conv1.weight' not in target and any(k.startswith('stem.') for k in target)
    last_norm = max(stem_norms) if deep_target and stem_norms and 'conv1.0.weight' in state else None
    down = _downsample_maps(list(state), target, forms, first_name)
    renamed, old_of = {}, {}
    for key, value in state.items():
        new = _stem_rename(key, target, last_norm) if deep_target else key
        if new != key:
            kinds.add(f"timm deep stem: conv1.N -> stem.N, bn1 -> stem.{last_norm}")
        gn = _norm_rename(new, target)
        if gn != new:
            kinds.add('mmdet norm names: gnN -> bnN')
        new, match = gn, _DOWNSAMPLE.match(gn)
        if match and match[1] in down:
            new = f'{match[1]}{down[match[1]][int(match[2])]}.{match[3]}'
            kinds.add('avg-down shortcut: pool-first child indices -> ours')
        renamed[new] = value
        old_of[new] = first_name[key]
    return renamed, old_of, sorted(kinds)
