"""Temporal shift (TSM, Lin et al., 2019): part of the channels of each frame is exchanged with its neighbours.

A 2D network sees frames as a batch of N * T images. Shifting 1/shift_div of the channels one frame back in time
(frame t reads frame t + 1) and another 1/shift_div one frame forward (frame t reads t - 1), zero-filled at the clip's
ends, lets the following 2D conv mix time at no cost in parameters or FLOPs. Arithmetic as mmaction2's
``TemporalShift.shift``; ``TemporalPool`` is its ``temporal_pool`` option (max over neighbouring frames, T halved).
"""
from __future__ import annotations

import torch
from torch import nn


def clips_of(x: torch.Tensor, num_segments: int, what: str) -> torch.Tensor:
    """(N * T, C, H, W) -> (N, T, C, H, W); ValueError when the batch is not whole clips."""
    if x.dim() != 4 or x.shape[0] % num_segments:
        raise ValueError(f'{what} takes (N * num_segments, C, H, W) frames with num_segments={num_segments}; got '
                         f'shape {tuple(x.shape)}')
    return x.view(x.shape[0] // num_segments, num_segments, *x.shape[1:])


def temporal_shift(x: torch.Tensor, num_segments: int, shift_div: int = 8) -> torch.Tensor:
    """Shift channels [0, C // shift_div) one frame back and [C // shift_div, 2 C // shift_div) one frame forward."""
    clips = clips_of(x, num_segments, 'temporal_shift')
    fold = clips.shape[2] // shift_div
    out = torch.zeros_like(clips)
    out[:, :-1, :fold] = clips[:, 1:, :fold]
    out[:, 1:, fold:2 * fold] = clips[:, :-1, fold:2 * fold]
    out[:, :, 2 * fold:] = clips[:, :, 2 * fold:]
    return out.view_as(x)


class TemporalShift(nn.Module):
    """Temporal shift of (N * num_segments, C, H, W) frames; no parameters.

    Args:
        in_channels: C, checked so that the shift moves at least one channel each way.
        num_segments: frames per clip (mmaction2's ``num_segments``). shift_div: 1/shift_div of the channels
            moves each way.
    """

    def __init__(self, in_channels: int, num_segments: int = 8, shift_div: int = 8):
        super().__init__()
        for name, value in (('num_segments', num_segments), ('shift_div', shift_div)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'TemporalShift {name} must be an integer >= 1; got {value!r}')
        if in_channels < shift_div:
            raise ValueError(f'TemporalShift of {in_channels} channels with shift_div={shift_div} would move fewer '
                             f'than one channel each way; use shift_div <= {in_channels}')
        self.num_segments, self.shift_div = num_segments, shift_div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return temporal_shift(x, self.num_segments, self.shift_div)

    def extra_repr(self) -> str:
        return f'num_segments={self.num_segments}, shift_div={self.shift_div}'


class TemporalPool(nn.Module):
    """Max over 3 neighbouring frames with stride 2 (padding 1): (N * T, C, H, W) -> (N * ceil(T / 2), C, H, W)."""

    def __init__(self, in_channels: int, num_segments: int = 8):
        super().__init__()
        self.num_segments = num_segments
        self.pool = nn.MaxPool3d(kernel_size=(3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        clips = clips_of(x, self.num_segments, 'TemporalPool').transpose(1, 2)  # (N, C, T, H, W)
        return self.pool(clips).transpose(1, 2).reshape(-1, *x.shape[1:])
