"""Weights for stages that take another pathway's channels (SlowFast's lateral connections, ``fused_channels``).

The first block of such a stage (its conv1 and its projection shortcut) has ``fused_channels[i]`` more input
channels than the plain ResNet whose checkpoint is loaded. Those inputs get zero weights, as mmaction2 does when it
inflates an ImageNet ResNet into a lateral pathway: the pathway then starts as the plain network, whatever the
other pathway feeds it, and learns to use the laterals.
"""
from __future__ import annotations

import re

import torch
from torch import nn

_FIRST_BLOCK_INPUT = re.compile(r'^layer(\d+)\.0\.(?:conv1|downsample\.\d+)\.weight$')


def pad_fused_inputs(key: str, value: torch.Tensor, target_shape: torch.Size, backbone: nn.Module
                     ) -> torch.Tensor | None:
    """``value`` with zero weights appended for the fused input channels of ``key``'s conv, or None where ``key``
    is not a first-block input conv of a fused stage, or the shapes do not differ by exactly those channels."""
    fused = getattr(backbone, 'fused_channels', None)
    match = _FIRST_BLOCK_INPUT.match(key)
    if not fused or not match or value.dim() < 3:
        return None
    extra = fused[int(match[1]) - 1] if int(match[1]) <= len(fused) else 0
    if not extra or value.shape[0] != target_shape[0] or value.shape[1] + extra != target_shape[1]:
        return None
    return torch.cat([value, value.new_zeros(value.shape[0], extra, *value.shape[2:])], dim=1)
