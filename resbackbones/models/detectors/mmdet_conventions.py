"""Two sampling conventions in which mmdet (and detectron2) differ from torchvision, as opt-in switches.

- RoIAlign with ``aligned=True`` (``MultiLevelRoIAlign``, roi_pooler.py): box corners are shifted by half a pixel
  so that a box maps onto the feature grid without the half-pixel bias of the original RoIAlign; with
  ``sampling_ratio=0`` the samples per bin adapt to the RoI size. mmdet's default RoI extractor is exactly that.
- Base anchors at their exact sizes: torchvision rounds them to whole pixels (a 32 px anchor of ratio 0.5 becomes
  46 x 22 instead of 45.25 x 22.63), mmdet does not.

Enabled by ``roi_head=dict(aligned=True, sampling_ratio=0)`` and
``rpn_head=dict(anchor_generator=dict(round_to_pixels=False))``; see configs/mask_rcnn/*_mmdet-conventions.py.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.models.detection.anchor_utils import AnchorGenerator


class ExactAnchorGenerator(AnchorGenerator):
    """torchvision's AnchorGenerator with base anchors of exact, unrounded sizes and grids at the levels' declared
    ``strides`` (mmdet's AnchorGenerator). torchvision takes a level's stride as padded image size // grid size,
    which is 61, not 64, for the P6 grid of an 800 px input (13 cells, as P6 is not padded to 64)."""

    def __init__(self, sizes, aspect_ratios, strides: list[int]):
        super().__init__(sizes, aspect_ratios)
        if len(strides) != len(sizes):
            raise ValueError(f'ExactAnchorGenerator: {len(strides)} strides for {len(sizes)} levels')
        self.strides = [int(s) for s in strides]

    def grid_anchors(self, grid_sizes: list[list[int]], strides: list[list[Tensor]]) -> list[Tensor]:
        fixed = [[torch.tensor(s, dtype=torch.int64, device=given[0].device)] * 2
                 for s, given in zip(self.strides, strides)]
        return super().grid_anchors(grid_sizes, fixed)

    def generate_anchors(self, scales: list[int], aspect_ratios: list[float], dtype: torch.dtype = torch.float32,
                         device: torch.device = torch.device('cpu')) -> Tensor:
        sizes = torch.as_tensor(scales, dtype=dtype, device=device)
        h_ratios = torch.sqrt(torch.as_tensor(aspect_ratios, dtype=dtype, device=device))
        ws = (sizes[None, :] / h_ratios[:, None]).view(-1)  # ratio-major, as torchvision and mmdet order them
        hs = (sizes[None, :] * h_ratios[:, None]).view(-1)
        return torch.stack([-ws, -hs, ws, hs], dim=1) / 2
