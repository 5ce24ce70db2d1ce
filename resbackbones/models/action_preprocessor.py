"""mmaction2's ``ActionDataPreprocessor``: stack uint8 clips, move them to the device, normalise there.

Clips cross the data loader as uint8 (4x smaller than float32); the float conversion and per-channel
``(x - mean) / std`` happen on the model's device, for (N, views, C, T, H, W) 'NCTHW' batches of 3D models and
(N, frames, C, H, W) 'NCHW' batches of 2D models (TSN) alike. 'MIX2d3d' (OmniSource) decides per batch: an
(N, C, H, W) batch is images, anything else clips; a tuple of batches (one per source, from
``MultiLoaderEpochBasedTrainLoop``) gives a tuple back.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from ..registry import MODELS

CHANNEL_DIM = {'NCTHW': -4, 'NCHW': -3, 'MIX2d3d': None}  # None: -3 for 4D image batches, else -4


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Normalise video batches on the device.

    Args:
        mean, std: per-channel values in the pixel scale (0..255), e.g. ImageNet's (123.675, 116.28, 103.53) and
            (58.395, 57.12, 57.375); None skips normalisation (only the float conversion).
        to_rgb: swap BGR <-> RGB (our decoders give RGB already; for pipelines that read BGR).
        format_shape: 'NCTHW' (3D models), 'NCHW' (2D models) or 'MIX2d3d' (images and clips, by the batch's
            rank): where the channel axis is.
    """

    def __init__(self, mean: Sequence[float] | None = None, std: Sequence[float] | None = None, to_rgb: bool = False,
                 format_shape: str = 'NCHW', non_blocking: bool = False):
        super().__init__(non_blocking)
        if format_shape not in CHANNEL_DIM:
            raise ValueError(f'ActionDataPreprocessor: format_shape must be one of {tuple(CHANNEL_DIM)}; got '
                             f'{format_shape!r}')
        if (mean is None) != (std is None) or (mean is not None and len(mean) != len(std)):
            raise ValueError(f'ActionDataPreprocessor: give mean and std together, one value per channel; got '
                             f'mean={mean!r}, std={std!r}')
        if std is not None and min(std) <= 0:
            raise ValueError(f'ActionDataPreprocessor: std values must be > 0; got {std!r}')
        self.format_shape, self.to_rgb = format_shape, bool(to_rgb)
        self.normalize = mean is not None
        if self.normalize:
            self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32), False)
            self.register_buffer('std', torch.tensor(std, dtype=torch.float32), False)

    def forward(self, data: dict | tuple, training: bool = False) -> dict | tuple:
        """``dict(inputs=list or tensor, data_samples=...)`` -> normalised float ``inputs`` on the device; a tuple
        of such batches -> a tuple."""
        if isinstance(data, (tuple, list)):
            return tuple(self.forward(batch, training) for batch in data)
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, dict) or (isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], dict)):
            raise ValueError(f'ActionDataPreprocessor: the inputs are a dict of modalities '
                             f'({sorted(inputs if isinstance(inputs, dict) else inputs[0])}); give the model '
                             "data_preprocessor=dict(type='MultiModalDataPreprocessor', preprocessors=dict("
                             "imgs=..., heatmap_imgs=...)), as mmaction2's PoseC3D RGB+pose configs do")
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError(f'ActionDataPreprocessor: clips in a batch differ in shape {sorted(shapes)}; '
                                 f'crop/resize them to one size in the pipeline')
            inputs = torch.stack(list(inputs))
        dim = CHANNEL_DIM[self.format_shape] or (-3 if inputs.dim() == 4 else -4)
        channels = inputs.shape[dim] if inputs.dim() >= -dim else None
        if self.normalize and channels != self.mean.numel():
            raise ValueError(f'ActionDataPreprocessor: {self.format_shape} batch of shape {tuple(inputs.shape)} has '
                             f'{channels} channels at dim {dim}; mean/std have {self.mean.numel()}')
        if self.to_rgb:
            inputs = inputs.flip(dim)
        inputs = inputs.float()
        if self.normalize:
            shape = (-1,) + (1,) * (-dim - 1)
            inputs = (inputs - self.mean.view(shape)) / self.std.view(shape)
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
