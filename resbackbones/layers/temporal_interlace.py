"""Temporal interlace (TIN, Shao et al. 2020): a learned, fractional temporal shift of groups of channels.

Where TSM moves fixed channel groups by one frame, TIN predicts per clip how far each of its groups moves (an offset
in (-4, 4), the second half of the groups by the opposite amount) and how much each frame keeps (a weight in
(0, 2)); fractional offsets interpolate linearly between the two whole shifts around them. Arithmetic and module
names follow mmaction2's ``TemporalInterlace`` (``offset_net``, ``weight_net``), whose shift is mmcv's CUDA op
``tin_shift``; here it is plain torch, so it runs on any device and its gradient is exact.
"""
from __future__ import annotations

import torch
from torch import nn

from .temporal_shift import clips_of

GROUPS = 2  # offsets predicted per clip; their negatives make 4 channel groups (mmaction2's deform_groups)
OFFSET_BIAS = 0.5108  # mmaction2's fc2 bias: 4 * (sigmoid(0.5108) - 0.5) = 1, a one-frame shift at the start


def tin_shift(data: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """(N, T, C, L) data, (N, G) integer shifts -> out[n, t + shift[n, g]] = data[n, t] for the channels of group g
    (C split into G equal groups), zero where nothing lands: mmcv's ``tin_shift``."""
    n, t, c, _ = data.shape
    groups = shift.shape[1]
    if c % groups:
        raise ValueError(f'tin_shift: {c} channels do not split into {groups} groups')
    per_channel = shift.long().repeat_interleave(c // groups, dim=1)  # (N, C)
    source = torch.arange(t, device=data.device).view(1, t, 1) - per_channel.view(n, 1, c)  # frame read at t
    valid = (source >= 0) & (source < t)
    gathered = data.gather(1, source.clamp(0, t - 1).unsqueeze(-1).expand_as(data))
    return gathered * valid.unsqueeze(-1).to(data.dtype)


def linear_sampler(data: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """(N, T, C, H, W) data shifted by fractional per-group ``offset`` (N, G): the two whole shifts around each
    offset, mixed linearly (mmaction2's ``linear_sampler``)."""
    n, t, c, h, w = data.shape
    whole = torch.floor(offset)
    flat = data.reshape(n, t, c, h * w)
    below, above = tin_shift(flat, whole), tin_shift(flat, whole + 1)
    weight_above = (offset - whole).repeat_interleave(c // offset.shape[1], dim=1)[:, None, :, None]
    return ((1 - weight_above) * below + weight_above * above).view(n, t, c, h, w)


class OffsetNet(nn.Module):
    """(N, C, T) pooled clip -> (N, 1, GROUPS) offsets in (-4, 4): conv over time to one channel, two fc layers."""

    def __init__(self, in_channels: int, groups: int, num_segments: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, 1, 3, padding=1)
        self.fc1 = nn.Linear(num_segments, num_segments)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(num_segments, groups)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc2(self.relu(self.fc1(self.conv(x).flatten(1))))
        return 4 * (self.sigmoid(x.unsqueeze(1)) - 0.5)


class WeightNet(nn.Module):
    """(N, C, T) pooled clip -> (N, T, GROUPS) per-frame weights in (0, 2)."""

    def __init__(self, in_channels: int, groups: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, groups, 3, padding=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.sigmoid(self.conv(x).permute(0, 2, 1))


class TemporalInterlace(nn.Module):
    """Temporal interlace of (N * num_segments, C, H, W) frames: the first C // shift_div channels are shifted by
    learned offsets and reweighted per frame, the others pass unchanged.

    Args:
        in_channels: C. num_segments: frames per clip. shift_div: 1/shift_div of the channels is interlaced
            (mmaction2's TIN configs: 4); that part must split into 4 equal groups.
    """

    def __init__(self, in_channels: int, num_segments: int = 3, shift_div: int = 1):
        super().__init__()
        self.num_segments, self.shift_div = num_segments, shift_div
        self.folds = in_channels // shift_div
        if self.folds < 2 * GROUPS or self.folds % (2 * GROUPS):
            raise ValueError(f'TemporalInterlace: in_channels // shift_div = {in_channels} // {shift_div} = '
                             f'{self.folds} must be a positive multiple of {2 * GROUPS} (its channel groups)')
        self.offset_net = OffsetNet(self.folds, GROUPS, num_segments)
        self.weight_net = WeightNet(self.folds, GROUPS)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default init, with mmaction2's biases: offsets start at one frame, weights at 1."""
        for layer in (self.offset_net.conv, self.offset_net.fc1, self.offset_net.fc2, self.weight_net.conv):
            layer.reset_parameters()
        nn.init.constant_(self.offset_net.fc2.bias, OFFSET_BIAS)
        nn.init.zeros_(self.weight_net.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        clips = clips_of(x, self.num_segments, 'TemporalInterlace')  # (N, T, C, H, W)
        part = clips[:, :, :self.folds]
        pooled = part.mean(dim=(3, 4)).permute(0, 2, 1)  # (N, folds, T)
        offset = self.offset_net(pooled).flatten(1)  # (N, GROUPS)
        weight = self.weight_net(pooled)  # (N, T, GROUPS)
        shifted = linear_sampler(part, torch.cat([offset, -offset], dim=1))
        # per channel group (g0, g1, g0, g1): the weight of the offset that moved it
        weight = weight.repeat(1, 1, 2).repeat_interleave(self.folds // (2 * GROUPS), dim=2)
        out = torch.cat([shifted * weight[..., None, None], clips[:, :, self.folds:]], dim=2)
        return out.view_as(x)
