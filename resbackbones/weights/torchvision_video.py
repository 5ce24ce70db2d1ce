"""torchvision's video ResNets (r3d_18, mc3_18, r2plus1d_18) -> the core's keys (ResNet3d / ResNet2Plus1d).

torchvision wraps each conv of a block with its norm (``convK.0`` conv or (2+1)D conv, ``convK.1`` norm) and names the
stem ``stem.*``; ours has ``convK`` + ``bnK`` and the stem ``conv1`` + ``bn1``. Inside a (2+1)D conv the children are
the same (0 spatial conv, 1 norm, 3 temporal conv), so only the enclosing names move:

    stem.0 -> conv1 (or conv1.0 when the target's stem is (2+1)D), stem.1 -> bn1 (or conv1.1), stem.3 -> conv1.3,
    stem.4 -> bn1;  layerN.i.convK.0.* -> layerN.i.convK.*,  layerN.i.convK.1.* -> layerN.i.bnK.*

The classifier ``fc`` is the source's head (``head.fc`` of a Recognizer3D). ``load_pretrained`` detects the format.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Collection

from .sources import Split

_BLOCK_CONV = re.compile(r'^(layer\d+\.\d+\.)conv(\d+)\.([01])\.(.+)$')


def _rename(key: str, target: Collection[str]) -> str:
    match = _BLOCK_CONV.match(key)
    if match:
        prefix, k, child, rest = match.groups()
        return f'{prefix}conv{k}.{rest}' if child == '0' else f'{prefix}bn{k}.{rest}'
    factorised = 'conv1.0.weight' in target
    stem = {'stem.0.': 'conv1.0.' if factorised else 'conv1.', 'stem.1.': 'conv1.1.' if factorised else 'bn1.',
            'stem.3.': 'conv1.3.', 'stem.4.': 'bn1.'}
    for old, new in stem.items():
        if key.startswith(old):
            return new + key[len(old):]
    return key


def to_core_names(split: Split, target: Collection[str]) -> Split:
    """``split`` with its backbone keys renamed from torchvision's video layout to the core's (``origin`` kept)."""
    target = set(target)
    renamed = {_rename(k, target): k for k in split.backbone}
    return dataclasses.replace(split, backbone={new: split.backbone[old] for new, old in renamed.items()},
                               origin={new: split.origin[old] for new, old in renamed.items()})
