"""mmaction2's ``ConvAudio`` (Xiao et al., 2020, "Audiovisual SlowFast Networks"): a k x k conv over a spectrogram
split into a (k, 1) conv along time and a (1, k) conv along frequency, run side by side.

Time and frequency are different axes of a log-mel spectrogram (a sound moves along one, its pitch along the other),
so the audio ResNet learns them with separate kernels; each branch has its own batch norm and ReLU, and their
outputs are concatenated (``op='concat'``: 2 x out_channels, the bottlenecks' middle conv) or summed ('sum', the
stem). Branch names are mmaction2's (``conv_1``, ``conv_2``, each ``conv`` + ``bn``), so its checkpoints load.
"""
from __future__ import annotations

import torch
from torch import nn

from .non_local import ConvNorm

OPS = ('concat', 'sum')


class ConvAudio(nn.Module):
    """(N, C, T, F) -> (N, 2 * out_channels or out_channels, T / stride, F / stride).

    Args:
        in_channels / out_channels: of each branch. kernel_size: k (odd; 'same' padding along its axis).
        op: 'concat' or 'sum' of the two branches. stride: of both branches, along both axes.
        norm_cfg: the branches' norm (mmaction2's: BN).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, op: str = 'concat', stride: int = 1,
                 norm_cfg: dict | None = None):
        super().__init__()
        if op not in OPS:
            raise ValueError(f'ConvAudio: op must be one of {OPS}; got {op!r}')
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'ConvAudio: kernel_size must be an odd integer (same padding); got {kernel_size!r}')
        norm_cfg = norm_cfg or dict(type='BN')
        pad = kernel_size // 2
        self.conv_1 = ConvNorm(in_channels, out_channels, norm_cfg, dims=2, act=True, kernel_size=(kernel_size, 1),
                               stride=stride, padding=(pad, 0))
        self.conv_2 = ConvNorm(in_channels, out_channels, norm_cfg, dims=2, act=True, kernel_size=(1, kernel_size),
                               stride=stride, padding=(0, pad))
        self.op = op
        self.out_channels = out_channels * (2 if op == 'concat' else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        along_time, along_frequency = self.conv_1(x), self.conv_2(x)
        return torch.cat((along_time, along_frequency), dim=1) if self.op == 'concat' else along_time + along_frequency
