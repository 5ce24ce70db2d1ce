"""Load a state dict already renamed to our detector's keys: all or nothing, with the keys named on failure.

Shared by the torchvision and mmdet detection converters, which differ only in how they rename.
"""
from __future__ import annotations

from typing import Mapping

import torch
from mmengine.logging import print_log
from torch import nn

COUNTER = 'num_batches_tracked'


def load_detector_state(model: nn.Module, state: Mapping[str, torch.Tensor], origin: str, source: str,
                        strict: bool = True) -> dict[str, list]:
    """Copy ``state`` into ``model``; returns ``dict(missing=[...], unexpected=[...])``.

    Raises ValueError naming the keys when shapes differ, or when ``strict`` and keys are missing or unexpected;
    the model is then unchanged. ``origin`` (the file) and ``source`` (e.g. 'mmdet') go into messages.
    """
    target = model.state_dict()
    wanted = {k for k in target if not k.endswith(COUNTER)}
    missing = sorted(wanted - set(state))
    unexpected = sorted(k for k in state if k not in target and not k.endswith(COUNTER))
    mismatched = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in state if k in target and state[k].shape != target[k].shape]
    if mismatched:
        raise ValueError(f'{origin}: {len(mismatched)} tensors differ in shape ({"; ".join(mismatched[:5])}); '
                         'check the backbone depth, num_classes (or class_ids) and the mask branch. '
                         'The model was not changed.')
    if strict and (missing or unexpected):
        raise ValueError(f'{origin}: {len(missing)} keys missing {missing[:5]}, {len(unexpected)} unexpected '
                         f'{unexpected[:5]}. The model was not changed.')
    model.load_state_dict({**target, **{k: v for k, v in state.items() if k in target}})
    print_log(f'loaded {origin} ({source} detection): {len(missing)} missing, {len(unexpected)} unexpected',
              logger='current')
    return dict(missing=missing, unexpected=unexpected)
