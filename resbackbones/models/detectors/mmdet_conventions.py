"""Two sampling conventions in which mmdet (and detectron2) differ from torchvision, as opt-in torchvision parts.

- RoIAlign with ``aligned=True``: box corners are shifted by half a pixel so that a box maps onto the feature grid
  without the half-pixel bias of the original RoIAlign; with ``sampling_ratio=0`` the samples per bin adapt to the
  RoI size. mmdet's default RoI extractor is exactly that.
- Base anchors at their exact sizes: torchvision rounds them to whole pixels (a 32 px anchor of ratio 0.5 becomes
  46 x 22 instead of 45.25 x 22.63), mmdet does not.

Enabled by ``roi_head=dict(aligned=True, sampling_ratio=0)`` and
``rpn_head=dict(anchor_generator=dict(round_to_pixels=False))``; see configs/mask_rcnn/*_mmdet-conventions.py.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign, roi_align
from torchvision.ops.poolers import _setup_scales


class AlignedMultiScaleRoIAlign(MultiScaleRoIAlign):
    """torchvision's MultiScaleRoIAlign (same level mapping, same arguments) sampling with ``aligned=True``."""

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]) -> Tensor:
        features = [x[name] for name in self.featmap_names]
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(features, image_shapes, self.canonical_scale,
                                                         self.canonical_level)
        rois = torch.cat([torch.cat([b.new_full((len(b), 1), i), b], 1) for i, b in enumerate(boxes)])
        levels = self.map_levels(boxes) if len(features) > 1 else rois.new_zeros(len(rois), dtype=torch.int64)
        out = features[0].new_zeros((len(rois), features[0].shape[1], *self.output_size))
        for level, (feature, scale) in enumerate(zip(features, self.scales)):
            index = torch.where(levels == level)[0]
            pooled = roi_align(feature, rois[index], self.output_size, scale, self.sampling_ratio, aligned=True)
            out[index] = pooled.to(out.dtype)  # levels may differ in dtype under autocast
        return out


class ExactAnchorGenerator(AnchorGenerator):
    """torchvision's AnchorGenerator with base anchors of exact, unrounded sizes (mmdet's AnchorGenerator)."""

    def generate_anchors(self, scales: list[int], aspect_ratios: list[float], dtype: torch.dtype = torch.float32,
                         device: torch.device = torch.device('cpu')) -> Tensor:
        sizes = torch.as_tensor(scales, dtype=dtype, device=device)
        h_ratios = torch.sqrt(torch.as_tensor(aspect_ratios, dtype=dtype, device=device))
        ws = (sizes[None, :] / h_ratios[:, None]).view(-1)  # ratio-major, as torchvision and mmdet order them
        hs = (sizes[None, :] * h_ratios[:, None]).view(-1)
        return torch.stack([-ws, -hs, ws, hs], dim=1) / 2
