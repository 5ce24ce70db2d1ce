"""A ResNet stage: blocks of one width, the first of which may downsample and project the shortcut."""
from __future__ import annotations

from typing import Sequence

from torch import nn

from ..layers import LayerFactory
from .addons import BlockAddon


def make_shortcut(in_channels: int, out_channels: int, stride: int, temporal_stride: int, avg_down: bool,
                  layers: LayerFactory) -> nn.Sequential:
    """Projection shortcut: 1x1 conv + norm, or (ResNet-D, ``avg_down``) average pool then a stride-1 1x1 conv.

    Child indices match mmdet/mmpretrain (``downsample.0`` conv, ``.1`` norm; with a pool first, ``.1``/``.2``).
    """
    pooled = avg_down and (stride > 1 or temporal_stride > 1)
    parts = [layers.avg_pool(stride, temporal_stride)] if pooled else []
    conv_stride, conv_tstride = (1, 1) if avg_down else (stride, temporal_stride)
    parts += [layers.conv(in_channels, out_channels, 1, conv_stride, temporal_stride=conv_tstride),
              layers.norm(out_channels)]
    return nn.Sequential(*parts)


class ResStage(nn.Sequential):
    """``num_blocks`` residual blocks; exposes ``stride``, ``temporal_stride`` and ``out_channels`` of the stage.

    Args:
        block: a ResidualBlock class (BasicBlock, Bottleneck, IBasicBlock). in_channels: input channels.
            planes: block width (output is planes * block.expansion). stride / temporal_stride: applied by the
            first block. dilation: of every block (mmdet's convention). avg_down: ResNet-D shortcut.
            drop_path_rates: one rate per block.
        temporal_kernels: per-block temporal kernel tuples for video (None: all 1). addons: per block, the
            BlockAddons it gets (None: none). widths: per block, its inner width, which replaces the ``width`` of
            block_kwargs (None: the variant's width for every block; a pruned stage has its own per block).
            block_options: per block, more keyword arguments for it alone (ResNetAudio's ``factorize``); None: none.
            block_kwargs: the block's variant arguments (``block.variant_kwargs``).
    """

    def __init__(self, block: type, in_channels: int, planes: int, num_blocks: int, stride: int, dilation: int,
                 avg_down: bool, layers: LayerFactory, drop_path_rates: Sequence[float], temporal_stride: int = 1,
                 temporal_kernels: Sequence[tuple[int, ...]] | None = None,
                 addons: Sequence[Sequence[BlockAddon]] | None = None, widths: Sequence[int] | None = None,
                 block_options: Sequence[dict] | None = None, **block_kwargs):
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or temporal_stride != 1 or in_channels != out_channels:
            downsample = make_shortcut(in_channels, out_channels, stride, temporal_stride, avg_down, layers)
        blocks = []
        for i in range(num_blocks):
            blocks.append(block(in_channels if i == 0 else out_channels, planes,
                                stride=stride if i == 0 else 1, dilation=dilation,
                                downsample=downsample if i == 0 else None, layers=layers,
                                drop_path=drop_path_rates[i], temporal_stride=temporal_stride if i == 0 else 1,
                                temporal_kernels=None if temporal_kernels is None else temporal_kernels[i],
                                **(block_kwargs if widths is None else {**block_kwargs, 'width': widths[i]}),
                                **(block_options[i] if block_options is not None else {})))
            if addons is not None and addons[i]:
                blocks[-1].add_addons(addons[i])
        super().__init__(*blocks)
        self.stride, self.temporal_stride, self.out_channels = stride, temporal_stride, out_channels
