"""mmaction2's ``AVARoIHead``: RoI extractor -> optional shared head (ACRN, LFB) -> ``BBoxHeadAVA``, with mmaction2's
module names (``bbox_roi_extractor``, ``shared_head``, ``bbox_head``) so its checkpoints load key for key.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ...registry import MODELS
from ...structures import FeatureSpec
from .roi_extractor import SingleRoIExtractor3D

SHARED_HEADS = ('ACRNHead', 'FBOHead', 'LFBInferHead')


def _build(cfg: dict | nn.Module, allowed: tuple[str, ...], key: str) -> nn.Module:
    if isinstance(cfg, nn.Module):
        return cfg
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    if kind not in allowed:
        raise ValueError(f"roi_head.{key}: type must be one of {allowed}; got {kind!r}")
    return MODELS.build(cfg)


@MODELS.register_module()
class AVARoIHead(nn.Module):
    """Args: ``bbox_roi_extractor`` (SingleRoIExtractor3D), ``bbox_head`` (BBoxHeadAVA), ``shared_head`` (ACRNHead,
    the long-term feature bank's FBOHead or LFBInferHead, or None) configs; ``train_cfg`` / ``test_cfg`` are taken
    by FastRCNN, accepted here as mmdet passes them."""

    def __init__(self, bbox_roi_extractor: dict | nn.Module, bbox_head: dict | nn.Module,
                 shared_head: dict | nn.Module | None = None, train_cfg: dict | None = None,
                 test_cfg: dict | None = None):
        super().__init__()
        self.bbox_roi_extractor = _build(bbox_roi_extractor, ('SingleRoIExtractor3D',), 'bbox_roi_extractor')
        self.shared_head = None if shared_head is None else _build(shared_head, SHARED_HEADS, 'shared_head')
        self.bbox_head = _build(bbox_head, ('BBoxHeadAVA',), 'bbox_head')

    def bind(self, specs: Sequence[FeatureSpec]) -> None:
        """Check the channels along extractor -> shared head -> bbox head against the backbone's ``specs``."""
        extractor: SingleRoIExtractor3D = self.bbox_roi_extractor
        channels = extractor.bind(specs)
        if self.shared_head is not None:
            channels = self.shared_head.bind(channels, frame_channels=sum(s.channels for s in specs))
        if self.bbox_head.in_channels != channels:
            raise ValueError(f'roi_head.bbox_head.in_channels={self.bbox_head.in_channels}, but its input has '
                             f'{channels} channels (the backbone declares {[s.channels for s in specs]}'
                             f'{", doubled by with_global" if extractor.with_global else ""})')

    def forward(self, feats: torch.Tensor | Sequence[torch.Tensor], rois: torch.Tensor,
                img_metas: Sequence[dict] | None = None) -> torch.Tensor:
        """Logits (R, num_classes) of ``rois`` (R, 5: batch index, x1, y1, x2, y2 in input pixels); ``img_metas``
        (the clips' data samples, with 'img_key') reach the shared head, as in mmaction2."""
        roi_feats, frame_feats = self.bbox_roi_extractor(feats, rois)
        if self.shared_head is not None:
            roi_feats = self.shared_head(roi_feats, frame_feats, rois, img_metas=img_metas)
        return self.bbox_head(roi_feats)
