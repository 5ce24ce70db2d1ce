"""Multi-level RoIAlign: torchvision's level mapping, either RoIAlign convention, and a fast CPU kernel.

torchvision's ``MultiScaleRoIAlign`` assigns each box to an FPN level (the FPN paper's k0 + log2(sqrt(wh)/224))
and pools it there. This pooler keeps that mapping and its arguments, adds ``aligned`` (mmdet / detectron2's
half-pixel convention) and picks the RoIAlign implementation: on CPU ``roi_align_rows`` (vectorised, with a
row scatter-add backward; several times faster to train through than torchvision's scalar CPU loop), elsewhere
torchvision's kernel.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torchvision.ops import MultiScaleRoIAlign, roi_align
from torchvision.ops.poolers import initLevelMapper

from .roi_align_rows import roi_align_rows

IMPLEMENTATIONS = ('auto', 'rows', 'torchvision')


class MultiLevelRoIAlign(MultiScaleRoIAlign):
    """torchvision's MultiScaleRoIAlign with ``aligned`` and a choice of RoIAlign kernel.

    Args:
        featmap_names, output_size, sampling_ratio: as torchvision's MultiScaleRoIAlign.
        strides: the levels' strides (the neck's feature specs), which fix each level's scale 1/stride and the box
            to level mapping. torchvision guesses them from the first batch's image size (rounded to a power of 2),
            which its resize to 800 px keeps right; a first image 33-45 px high, or a 40x320 strip, doubled every
            scale, for the model's life.
        aligned: half-pixel box shift (mmdet's RoI extractor), else torchvision's original convention.
        impl: 'auto' (rows on CPU, torchvision's kernel on other devices), 'rows' or 'torchvision'.
    """

    def __init__(self, featmap_names: list[str], output_size: int | tuple[int, int], sampling_ratio: int,
                 strides: list[int], aligned: bool = False, impl: str = 'auto'):
        super().__init__(featmap_names, output_size, sampling_ratio)
        if impl not in IMPLEMENTATIONS:
            raise ValueError(f'roi_head.roi_align_impl must be one of {IMPLEMENTATIONS}; got {impl!r}')
        if len(strides) != len(featmap_names):
            raise ValueError(f'MultiLevelRoIAlign: {len(strides)} strides for {len(featmap_names)} levels')
        self.aligned, self.impl = aligned, impl
        self.scales = [1.0 / s for s in strides]
        self.map_levels = initLevelMapper(int(math.log2(strides[0])), int(math.log2(strides[-1])),
                                          self.canonical_scale, self.canonical_level)

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> Tensor:
        """Pool every box of ``boxes`` (one (K_i, 4) tensor per image) from its level: (sum K_i, C, h, w)."""
        features = [x[name] for name in self.featmap_names]
        rois = torch.cat([torch.cat([b.new_full((len(b), 1), i), b], 1) for i, b in enumerate(boxes)])
        levels = self.map_levels(boxes) if len(features) > 1 else rois.new_zeros(len(rois), dtype=torch.int64)
        use_rows = self.impl == 'rows' or (self.impl == 'auto' and features[0].device.type == 'cpu')
        pool = roi_align_rows if use_rows else roi_align
        pooled_levels, indices = [], []
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            index = torch.where(levels == level)[0]
            pooled_levels.append(pool(feature, rois[index], self.output_size, scale, self.sampling_ratio,
                                      aligned=self.aligned))
            indices.append(index)
        out = torch.cat(pooled_levels).to(features[0].dtype)  # torchvision's rule under autocast
        return out.new_empty(out.shape).index_copy_(0, torch.cat(indices), out)

