"""Load a state dict already renamed to our detector's keys: all or nothing (or every head that fits, for
fine-tuning), with the keys named on failure.

Shared by the torchvision and mmdet detection converters, which differ only in how they rename.
"""
from __future__ import annotations

import logging
from typing import Mapping

import torch
from mmengine.logging import print_log
from torch import nn

COUNTER = 'num_batches_tracked'


def load_detector_state(model: nn.Module, state: Mapping[str, torch.Tensor], origin: str, source: str,
                        strict: bool = True) -> dict[str, list]:
    """Copy ``state`` into ``model``; returns ``dict(missing=[...], unexpected=[...])`` (and ``mismatched``, the
    keys left as initialised, when there are any).

    Raises ValueError naming the keys when shapes differ, or when ``strict`` and keys are missing or unexpected;
    the model is then unchanged. Without ``strict`` (a training run's ``load_from``: fine-tuning a COCO detector
    on other classes, as mmdet's) heads of another shape keep their initial weights, with a WARNING; the backbone
    must still fit, with no tensor of another shape or without a place (another depth is another network).
    ``origin`` (the file) and ``source`` (e.g. 'mmdet') go into messages.
    """
    target = model.state_dict()
    wanted = {k for k in target if not k.endswith(COUNTER)}
    missing = sorted(wanted - set(state))
    unexpected = sorted(k for k in state if k not in target and not k.endswith(COUNTER))
    differ = [k for k in state if k in target and state[k].shape != target[k].shape]
    mismatched = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(target[k].shape)}' for k in differ]
    extra = [k for k in unexpected if k.startswith('backbone.')]  # a deeper backbone: another network
    if extra and not strict:
        raise ValueError(f'{origin}: {len(extra)} backbone tensors have no place in the model ({extra[:5]}); check '
                         'the backbone depth. The model was not changed.')
    if mismatched and (strict or any(k.startswith('backbone.') for k in differ)):
        raise ValueError(f'{origin}: {len(mismatched)} tensors differ in shape ({"; ".join(mismatched[:5])}); '
                         'check the backbone depth, num_classes (or class_ids) and the mask branch. '
                         'The model was not changed.')
    if strict and (missing or unexpected):
        raise ValueError(f'{origin}: {len(missing)} keys missing {missing[:5]}, {len(unexpected)} unexpected '
                         f'{unexpected[:5]}. The model was not changed.')
    model.load_state_dict({**target, **{k: v for k, v in state.items() if k in target and k not in differ}})
    print_log(f'loaded {origin} ({source} detection): {len(missing)} missing, {len(unexpected)} unexpected'
              + (f', {len(differ)} of another shape' if differ else ''), logger='current')
    if missing or differ:
        print_log(f'partial load of {origin}: left as initialised: missing {missing[:5]}, other shapes '
                  f'{mismatched[:5]}', logger='current', level=logging.WARNING)
    return dict(missing=missing, unexpected=unexpected, **(dict(mismatched=differ) if differ else {}))
