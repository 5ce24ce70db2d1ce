"""One place that turns a layer's spatial settings into 2D or 3D modules.

Blocks and stems ask for "a k x k conv with stride s" and, for video, a temporal kernel and stride; the factory
returns Conv2d/Conv3d (or deformable conv), the matching norm and pooling. This is what lets one ResNet core serve
images and video: variants hand a different factory, not a different block class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from .conv import build_conv_layer
from .norm import build_norm_layer


def _default_norm() -> dict:
    return dict(type='BN', requires_grad=True)


@dataclass(frozen=True)
class LayerFactory:
    """Builds convs, norms and pools for ``dims``-dimensional inputs (2 = images, 3 = video).

    Args:
        dims: 2 for (N, C, H, W) inputs, 3 for (N, C, T, H, W).
        conv_cfg: ``None`` for plain convs, or a conv_cfg dict (see ``build_conv_layer``).
        norm_cfg: norm config (see ``build_norm_layer``).
    """

    dims: int = 2
    conv_cfg: dict | None = None
    norm_cfg: dict = field(default_factory=_default_norm)

    def _shape(self, spatial: int, temporal: int):
        return spatial if self.dims == 2 else (temporal, spatial, spatial)

    def conv(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1,
             groups: int = 1, temporal_kernel: int = 1, temporal_stride: int = 1, conv_cfg: dict | None = None,
             bias: bool = False) -> nn.Module:
        """A conv whose padding keeps ceil(size / stride) outputs; ``conv_cfg`` overrides the factory's (for DCN)."""
        padding = dilation * (kernel_size - 1) // 2
        cfg = conv_cfg or self.conv_cfg or {'type': 'Conv2d' if self.dims == 2 else 'Conv3d'}
        return build_conv_layer(cfg, in_channels, out_channels, self._shape(kernel_size, temporal_kernel),
                                self._shape(stride, temporal_stride), self._shape(padding, temporal_kernel // 2),
                                self._shape(dilation, 1), groups, bias)

    def norm(self, num_features: int) -> nn.Module:
        return build_norm_layer(self.norm_cfg, num_features, self.dims)

    def max_pool(self, kernel_size: int, stride: int, temporal_stride: int = 1) -> nn.Module:
        pool = nn.MaxPool2d if self.dims == 2 else nn.MaxPool3d
        return pool(self._shape(kernel_size, 1), self._shape(stride, temporal_stride),
                    self._shape(kernel_size // 2, 0))

    def avg_pool(self, stride: int, temporal_stride: int = 1) -> nn.Module:
        """Average pool that downsamples like a strided conv (ceil mode), for ResNet-D shortcuts."""
        pool = nn.AvgPool2d if self.dims == 2 else nn.AvgPool3d
        return pool(self._shape(stride, temporal_stride), self._shape(stride, temporal_stride), ceil_mode=True,
                    count_include_pad=False)
