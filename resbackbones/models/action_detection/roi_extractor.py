"""RoI features from a video feature map (mmaction2's ``SingleRoIExtractor3D``), on torchvision's RoIAlign.

The backbone's outputs (one tensor, or SlowFast's two pathways) are brought to one temporal length (nearest, as
mmaction2), averaged or max-pooled over time (``with_temporal_pool``), concatenated along channels, and each frame
is cropped per RoI: (R, C, T', out, out). ``with_global`` appends the whole frame pooled to the same size (the
"context" configs), doubling C. The spatial scale comes from the backbone's declared stride.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import roi_align

from ...registry import MODELS
from ...structures import FeatureSpec


@MODELS.register_module()
class SingleRoIExtractor3D(nn.Module):
    """Args (mmaction2's names and defaults):
        roi_layer_type: 'RoIAlign' (every mmaction2 AVA config's; mmcv's RoIPool rounds boxes differently from
            torchvision's, so it is refused rather than approximated).
        featmap_stride: input pixels per feature cell; None takes it from the backbone's feature specs (a given
            value must agree with them).
        output_size: side of each RoI's feature grid.
        sampling_ratio / aligned: RoIAlign's (0 = adaptive; aligned shifts by half a pixel, mmcv's default);
            pool_mode must be 'avg' (torchvision's RoIAlign averages).
        with_temporal_pool / temporal_pool_mode: pool time to one step first, 'avg' or 'max'.
        with_global: concatenate the frame's pooled feature to every RoI's.
    """

    def __init__(self, roi_layer_type: str = 'RoIAlign', featmap_stride: int | None = None, output_size: int = 16,
                 sampling_ratio: int = 0, pool_mode: str = 'avg', aligned: bool = True,
                 with_temporal_pool: bool = True, temporal_pool_mode: str = 'avg', with_global: bool = False):
        super().__init__()
        checks = {'roi_layer_type': (roi_layer_type, ('RoIAlign',)), 'pool_mode': (pool_mode, ('avg',)),
                  'temporal_pool_mode': (temporal_pool_mode, ('avg', 'max'))}
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f'SingleRoIExtractor3D: {name} must be one of {allowed}; got {value!r}')
        self.roi_layer_type, self.featmap_stride, self.output_size = roi_layer_type, featmap_stride, output_size
        self.sampling_ratio, self.aligned = sampling_ratio, aligned
        self.with_temporal_pool, self.temporal_pool_mode, self.with_global = (with_temporal_pool, temporal_pool_mode,
                                                                              with_global)

    def bind(self, specs: Sequence[FeatureSpec]) -> int:
        """Take the stride from the backbone's ``specs``; returns the channels of each RoI feature."""
        strides = {s.stride for s in specs}
        if len(strides) != 1:
            raise ValueError(f'SingleRoIExtractor3D: the backbone outputs have strides {sorted(strides)}; RoIs are '
                             'cut from maps of one stride')
        stride = strides.pop()
        if self.featmap_stride is not None and self.featmap_stride != stride:
            raise ValueError(f'SingleRoIExtractor3D: featmap_stride={self.featmap_stride}, but the backbone '
                             f'declares stride {stride}; leave featmap_stride out: it is derived from the backbone')
        self.featmap_stride = stride
        return sum(s.channels for s in specs) * (2 if self.with_global else 1)

    def _crop(self, frame: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return roi_align(frame, rois, self.output_size, 1.0 / self.featmap_stride, self.sampling_ratio, self.aligned)

    def forward(self, feats: torch.Tensor | Sequence[torch.Tensor], rois: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``feats``: (N, C, T, H, W) or a sequence of them; ``rois``: (R, 5) rows (batch index, x1, y1, x2, y2) in
        input pixels. Returns the RoI features (R, C', T', out, out) and the pooled map (N, C, T', H, W)."""
        feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
        if self.featmap_stride is None:
            raise RuntimeError('SingleRoIExtractor3D: bind() it to the backbone feature specs before use')
        if len(feats) > 1:
            size = (max(f.shape[2] for f in feats),) + tuple(feats[0].shape[3:])
            feats = [F.interpolate(f, size) for f in feats]  # nearest, mmaction2's default
        if self.with_temporal_pool:
            feats = [f.mean(2, keepdim=True) if self.temporal_pool_mode == 'avg' else f.amax(2, keepdim=True)
                     for f in feats]
        feat = torch.cat(feats, dim=1)
        crops = []
        for t in range(feat.shape[2]):
            frame = feat[:, :, t].contiguous()
            crop = self._crop(frame, rois)
            if self.with_global:
                context = F.adaptive_avg_pool2d(frame, self.output_size)[rois[:, 0].long()]
                crop = torch.cat([crop, context], dim=1)
            crops.append(crop)
        return torch.stack(crops, dim=2), feat
