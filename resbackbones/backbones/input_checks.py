"""What a backbone's forward checks of its input before running, so that a wrong tensor is a ValueError naming the
layout, channel count or size it needs, not torch's message from deep inside a conv or pool."""
from __future__ import annotations

from typing import Sequence

import torch

from ..structures import FeatureSpec


def check_input(backbone, x: torch.Tensor) -> None:
    """ValueError when ``x`` is not (N, C, H, W) for a 2D ``backbone`` ((N, C, T, H, W) for 3D) or has another
    channel count than its ``in_channels``. A batch of frames given to a 3D backbone was read by conv3d as one
    unbatched clip, and its message named a wrong channel count."""
    name, rank = type(backbone).__name__, backbone.layer_factory.dims + 2
    if x.dim() != rank:
        layout = '(N, C, H, W)' if rank == 4 else '(N, C, T, H, W)'
        hint = ': stack the frames of a clip along T' if rank == 5 and x.dim() == 4 else \
            ' (2D recognizers fold clips or segments into N)' if rank == 4 and x.dim() == 5 else ''
        raise ValueError(f'{name} takes {layout} inputs; got shape {tuple(x.shape)}{hint}')
    if x.shape[1] != backbone.in_channels:  # conv2d's own message names no setting to change
        raise ValueError(f'{name} takes {backbone.in_channels}-channel inputs (in_channels) and got {x.shape[1]} '
                         f'channels, shape {tuple(x.shape)}: load the images with as many channels '
                         f"(LoadImageFromFile color_type='grayscale'/'color', LoadImageAndMask channels=...) or set "
                         f'in_channels')


def too_small(name: str, specs: Sequence[FeatureSpec], sizes: tuple[int, ...]) -> str | None:
    """What an input of spatial ``sizes`` ((T, H, W) or (H, W)) is too small for, or None: the first of ``specs``
    that would have a side of no frames or pixels (torch only says 'Output size is too small' at some pool)."""
    for spec in specs:
        temporal = (spec.temporal_output_size(sizes[0]),) if len(sizes) == 3 else ()
        spatial = tuple(spec.output_size(n) for n in sizes[-2:])
        if min(temporal + spatial) < 1:
            axes = ('T', 'H', 'W')[-len(sizes):]
            return (f'{name}: an input of {" x ".join(f"{a}={n}" for a, n in zip(axes, sizes))} is too small: '
                    f'{spec.name} (temporal stride {spec.temporal_stride}, spatial stride {spec.stride}) would have '
                    f'{" x ".join(map(str, temporal + spatial))}; give more frames or pixels, or lower the strides')
    return None
