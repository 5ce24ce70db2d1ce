"""One place that turns a layer's spatial settings into 2D or 3D modules.

Blocks and stems ask for "a k x k conv with stride s" and, for video, a temporal kernel and stride; the factory
returns Conv2d/Conv3d (or deformable conv, or a factorised (2+1)D conv), the matching norm and pooling. This is what
lets one ResNet core serve images and video: variants hand a different factory, not a different block class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from .conv import build_conv_layer
from .conv2plus1d import MID_FROM, Conv2Plus1d, mid_channels, mmaction2_mid_channels
from .norm import build_norm_layer

MIDDLE_NORM = dict(type='BN')  # of a (2+1)D conv: see LayerFactory._conv2plus1d


CONV_DIMS = {'Conv2d': 2, 'Conv': 2, 'DCN': 2, 'DCNv2': 2, 'Conv3d': 3}  # conv_cfg types and the inputs they take


def _default_norm() -> dict:
    return dict(type='BN', requires_grad=True)


@dataclass(frozen=True)
class LayerFactory:
    """Builds convs, norms and pools for ``dims``-dimensional inputs (2 = images, 3 = video).

    Args:
        dims: 2 for (N, C, H, W) inputs, 3 for (N, C, T, H, W).
        conv_cfg: ``None`` for plain convs, or a conv_cfg dict (see ``build_conv_layer``). ``dict(type=
            'Conv2plus1d', mid_channels_from='block')`` (3D only) factorises every conv that has both a temporal and
            a spatial extent into a Conv2Plus1d (R(2+1)D); its middle width comes from the block's input and planes
            ('block', torchvision's rule, used for both convs of a block) or from each conv's own in/out ('conv').
            'mmaction2' is its Conv2plus1d: every conv factorised, 1 x 1 x 1 shortcut convs included, each with
            ``mmaction2_mid_channels``.
        norm_cfg: norm config (see ``build_norm_layer``).
        temporal_dilation: a conv's dilation applies along time/depth too where its temporal kernel is > 1
            (volumes); off, dilation is in-plane only (video, as mmaction2).
    """

    dims: int = 2
    conv_cfg: dict | None = None
    norm_cfg: dict = field(default_factory=_default_norm)
    temporal_dilation: bool = False

    def __post_init__(self):
        if self.dims not in (2, 3):
            raise ValueError(f'LayerFactory: dims must be 2 (images) or 3 (video, volumes); got {self.dims!r}')

    def _shape(self, spatial: int, temporal: int):
        return spatial if self.dims == 2 else (temporal, spatial, spatial)

    def conv(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1,
             groups: int = 1, temporal_kernel: int = 1, temporal_stride: int = 1, conv_cfg: dict | None = None,
             bias: bool = False, mid: int | None = None, block_channels: tuple[int, int] | None = None
             ) -> nn.Module:
        """A conv whose padding keeps ceil(size / stride) outputs; ``conv_cfg`` overrides the factory's (for DCN).

        ``mid`` / ``block_channels`` only matter to a (2+1)D factory: an explicit middle width (torchvision's
        R(2+1)D stem: 45), or the (input, planes) of the enclosing block for the 'block' middle-width rule.
        """
        padding = dilation * (kernel_size - 1) // 2
        cfg = conv_cfg or self.conv_cfg or {'type': 'Conv2d' if self.dims == 2 else 'Conv3d'}
        if cfg.get('type') == 'Conv2plus1d':
            return self._conv2plus1d(cfg, in_channels, out_channels, kernel_size, stride, dilation, groups,
                                     temporal_kernel, temporal_stride, bias, mid, block_channels)
        kind_dims = CONV_DIMS.get(cfg.get('type'))
        if kind_dims is not None and kind_dims != self.dims:  # torch stopped at the first forward, naming no option
            raise ValueError(f'conv_cfg type {cfg["type"]!r} is for {kind_dims}D inputs, but this network\'s layers '
                             f'get {self.dims}D ones; give {"Conv2d" if self.dims == 2 else "Conv3d"} or leave '
                             f'conv_cfg out')
        t_dilation = dilation if self.temporal_dilation and temporal_kernel > 1 else 1
        return build_conv_layer(cfg, in_channels, out_channels, self._shape(kernel_size, temporal_kernel),
                                self._shape(stride, temporal_stride),
                                self._shape(padding, t_dilation * (temporal_kernel - 1) // 2),
                                self._shape(dilation, t_dilation), groups, bias)

    def _conv2plus1d(self, cfg: dict, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                     dilation: int, groups: int, temporal_kernel: int, temporal_stride: int, bias: bool,
                     mid: int | None, block_channels: tuple[int, int] | None) -> nn.Module:
        rule = cfg.get('mid_channels_from', 'block')
        if self.dims != 3:
            raise ValueError("conv_cfg type 'Conv2plus1d' needs 3D inputs (a TemporalPlan)")
        if rule not in MID_FROM:
            raise ValueError(f"conv_cfg mid_channels_from must be one of {MID_FROM}; got {rule!r}")
        if set(cfg) - {'type', 'mid_channels_from'}:
            raise ValueError(f"conv_cfg of type 'Conv2plus1d' takes only mid_channels_from; got {sorted(cfg)}")
        # Nothing to factorise in a t x 1 x 1 or 1 x k x k conv, except for mmaction2, whose Conv2plus1d does anyway.
        if rule != 'mmaction2' and (temporal_kernel == 1 or kernel_size == 1):
            return self.conv(in_channels, out_channels, kernel_size, stride, dilation, groups, temporal_kernel,
                             temporal_stride, {'type': 'Conv3d'}, bias)
        if groups != 1 or bias:
            raise ValueError('a (2+1)D conv supports only groups=1 and no bias')
        if mid is None and rule == 'mmaction2':
            mid = mmaction2_mid_channels(in_channels, out_channels, kernel_size)
        elif mid is None:
            ref_in, ref_out = block_channels if rule == 'block' and block_channels else (in_channels, out_channels)
            mid = mid_channels(ref_in, ref_out, kernel_size, temporal_kernel)
        # the middle norm is a plain BatchNorm3d (eps 1e-5, trainable) whatever norm_cfg the other norms take:
        # torchvision hard-codes it, mmaction2's Conv2plus1d builds its own default; with its config's SyncBN
        # eps=1e-3 here too, its checkpoints loaded key for key and scored up to 0.2 apart
        return Conv2Plus1d(in_channels, out_channels, mid, build_norm_layer(MIDDLE_NORM, mid, 3), kernel_size,
                           stride, dilation, temporal_kernel, temporal_stride)

    def norm(self, num_features: int) -> nn.Module:
        return build_norm_layer(self.norm_cfg, num_features, self.dims)

    def max_pool(self, kernel_size: int, stride: int, temporal_stride: int = 1, temporal_kernel: int = 1,
                 padding: int | None = None) -> nn.Module:
        """Max-pool; spatial ``padding`` defaults to kernel_size // 2 (rounds up, as a strided conv)."""
        pool = nn.MaxPool2d if self.dims == 2 else nn.MaxPool3d
        padding = kernel_size // 2 if padding is None else padding
        return pool(self._shape(kernel_size, temporal_kernel), self._shape(stride, temporal_stride),
                    self._shape(padding, temporal_kernel // 2))

    def avg_pool(self, stride: int, temporal_stride: int = 1) -> nn.Module:
        """Average pool that downsamples like a strided conv (ceil mode), for ResNet-D shortcuts."""
        pool = nn.AvgPool2d if self.dims == 2 else nn.AvgPool3d
        return pool(self._shape(stride, temporal_stride), self._shape(stride, temporal_stride), ceil_mode=True,
                    count_include_pad=False)
