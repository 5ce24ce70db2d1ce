"""(2+1)D convolution (Tran et al., 2018, R(2+1)D): a t x k x k conv factorised into a 1 x k x k spatial conv, a
norm and ReLU, and a t x 1 x 1 temporal conv, with a middle width that keeps the parameter count of the full conv.

Module layout and middle width follow torchvision's ``Conv2Plus1D`` (children 0: spatial conv, 1: norm, 2: ReLU,
3: temporal conv), so its video checkpoints map onto ours by renaming only the enclosing module.
"""
from __future__ import annotations

from torch import nn

MID_FROM = ('block', 'conv', 'mmaction2')


def mid_channels(in_channels: int, out_channels: int, kernel_size: int, temporal_kernel: int) -> int:
    """torchvision's middle width: (t k^2 in out) // (k^2 in + t out), the full conv's parameters split in two."""
    k2 = kernel_size * kernel_size
    return (temporal_kernel * k2 * in_channels * out_channels) // (k2 * in_channels + temporal_kernel * out_channels)


def mmaction2_mid_channels(in_channels: int, out_channels: int, kernel_size: int) -> int:
    """mmaction2's Conv2plus1d middle width: torchvision's formula with t fixed at 3, whatever the conv's temporal
    kernel (so its factorised 1 x 1 x 1 shortcut convs get 3 in out // (in + 3 out))."""
    return mid_channels(in_channels, out_channels, kernel_size, 3)


class Conv2Plus1d(nn.Sequential):
    """Spatial (1, k, k) conv -> norm -> ReLU -> temporal (t, 1, 1) conv; strides split the same way.

    Args:
        in_channels / out_channels / mid: widths; norm: the middle norm module (built by the caller's factory).
        kernel_size / stride / dilation: spatial; temporal_kernel / temporal_stride: along time (padding keeps
            ceil(size / stride) outputs, as the full conv would).
    """

    def __init__(self, in_channels: int, out_channels: int, mid: int, norm: nn.Module, kernel_size: int,
                 stride: int = 1, dilation: int = 1, temporal_kernel: int = 3, temporal_stride: int = 1):
        pad = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv3d(in_channels, mid, (1, kernel_size, kernel_size), (1, stride, stride), (0, pad, pad),
                      (1, dilation, dilation), bias=False),
            norm,
            nn.ReLU(inplace=True),
            nn.Conv3d(mid, out_channels, (temporal_kernel, 1, 1), (temporal_stride, 1, 1), (temporal_kernel // 2, 0, 0),
                      bias=False))
        self.in_channels, self.out_channels, self.mid_channels = in_channels, out_channels, mid
