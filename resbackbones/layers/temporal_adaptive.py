"""TANet's temporal adaptive module (TAM, Liu et al. 2021): a per-clip, per-channel temporal convolution whose
kernel is predicted from the clip itself, after a learned per-frame channel gating.

Both branches look at each channel's frame-wise spatial averages: the global branch ``G`` maps the
``num_segments`` averages of a channel to a softmax kernel of ``adaptive_kernel_size`` taps; the local branch ``L``
(two 1D convs over time) gives a sigmoid gate per channel and frame. The gated frames are then convolved in time
with their channel's kernel. Module names (``G``, ``L``) are mmaction2's, so its TANet checkpoints load.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TAM(nn.Module):
    """(N * num_segments, C, H, W) frames of N clips -> the same shape.

    Args (mmaction2's): in_channels: C. num_segments: frames per clip. alpha: the global branch's hidden width per
    frame. adaptive_kernel_size: taps of the predicted kernel. beta: the local branch's channel reduction.
    conv1d_kernel_size: the local branch's temporal kernel. adaptive_convolution_stride / _padding: of the
    temporal convolution with the predicted kernel. init_std: accepted (mmaction2 stores it and does not use it).
    """

    def __init__(self, in_channels: int, num_segments: int, alpha: int = 2, adaptive_kernel_size: int = 3,
                 beta: int = 4, conv1d_kernel_size: int = 3, adaptive_convolution_stride: int = 1,
                 adaptive_convolution_padding: int = 1, init_std: float = 0.001):
        super().__init__()
        for name, value in (('num_segments', num_segments), ('alpha', alpha), ('beta', beta),
                            ('adaptive_kernel_size', adaptive_kernel_size), ('conv1d_kernel_size', conv1d_kernel_size),
                            ('adaptive_convolution_stride', adaptive_convolution_stride)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'TAM: {name} must be an integer >= 1; got {value!r}')
        if in_channels < beta:
            raise ValueError(f'TAM: in_channels ({in_channels}) must be at least beta ({beta})')
        self.in_channels, self.num_segments = in_channels, num_segments
        self.stride, self.padding = adaptive_convolution_stride, adaptive_convolution_padding
        self.G = nn.Sequential(nn.Linear(num_segments, num_segments * alpha, bias=False),
                               nn.BatchNorm1d(num_segments * alpha), nn.ReLU(inplace=True),
                               nn.Linear(num_segments * alpha, adaptive_kernel_size, bias=False), nn.Softmax(-1))
        self.L = nn.Sequential(nn.Conv1d(in_channels, in_channels // beta, conv1d_kernel_size,
                                         padding=conv1d_kernel_size // 2, bias=False),
                               nn.BatchNorm1d(in_channels // beta), nn.ReLU(inplace=True),
                               nn.Conv1d(in_channels // beta, in_channels, 1, bias=False), nn.Sigmoid())
        out = (num_segments + 2 * self.padding - adaptive_kernel_size) // self.stride + 1
        if out != num_segments:
            raise ValueError(f'TAM: the temporal convolution must keep num_segments={num_segments} frames; '
                             f'adaptive_kernel_size={adaptive_kernel_size}, stride {self.stride} and padding '
                             f'{self.padding} give {out}')

    def reset_parameters(self) -> None:
        """PyTorch's default init for every layer (mmaction2 leaves the TAM layers at it)."""
        for m in self.modules():
            if m is not self and hasattr(m, 'reset_parameters'):
                m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[0] % self.num_segments or x.shape[1] != self.in_channels:
            raise ValueError(f'TAM takes (N * {self.num_segments}, {self.in_channels}, H, W) frames; got '
                             f'{tuple(x.shape)}')
        n, c, h, w = x.shape
        clips = x.view(-1, self.num_segments, c, h, w).transpose(1, 2)  # (B, C, T, H, W)
        means = clips.mean(dim=(3, 4))  # (B, C, T)
        kernel = self.G(means.reshape(-1, self.num_segments))  # (B * C, K): one kernel per clip and channel
        gated = clips * self.L(means)[..., None, None]
        # Every (clip, channel) its own temporal kernel: a depthwise conv over (T, H * W) with a (K, 1) kernel per
        # group; on CPU the fastest of the forms tried (time slices, unfold, conv3d), and it keeps no K-fold copy
        # of the frames for backward.
        out = F.conv2d(gated.reshape(1, -1, self.num_segments, h * w), kernel.view(-1, 1, kernel.shape[1], 1),
                       stride=(self.stride, 1), padding=(self.padding, 0), groups=kernel.shape[0])
        return out.view(*gated.shape).transpose(1, 2).reshape(n, c, h, w)
