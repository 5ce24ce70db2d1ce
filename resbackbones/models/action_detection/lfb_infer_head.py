"""mmaction2's ``LFBInferHead``: the ``shared_head`` of a bank-inference config, which records each RoI's pooled
feature with its clip's 'img_key' while testing and passes the RoI features on unchanged.

mmaction2 writes the bank in the head's ``__del__`` (whenever the garbage collector gets to it, with barriers that
may run at interpreter exit). Here ``write_bank()`` writes it (``lfb_write.py``: atomically, every rank's features
merged) and ``LFBWriteHook`` calls it when a test or validation epoch ends; ``SafeRunner`` adds that hook by itself
when its model has such a head, so mmaction2's configs run unchanged. Features are only recorded in eval mode (a
bank is of inference features) and kept on the CPU, half precision with ``use_half_precision`` as mmaction2.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from ...registry import MODELS
from .fbo_head import img_keys, roi_pools
from .lfb_write import write_bank


@MODELS.register_module()
class LFBInferHead(nn.Module):
    """Args (mmaction2's):
        lfb_prefix_path: folder to write ``lfb_{dataset_mode}.pkl`` to (created when writing).
        dataset_mode: 'train', 'val' or 'test': the name of the bank file.
        use_half_precision: store float16 features (mmaction2's AVA banks are).
        temporal_pool_type / spatial_pool_type: pooling of each RoI feature to one vector, 'avg' / 'max'.
    """

    def __init__(self, lfb_prefix_path: str, dataset_mode: str = 'train', use_half_precision: bool = True,
                 temporal_pool_type: str = 'avg', spatial_pool_type: str = 'max'):
        super().__init__()
        if not isinstance(dataset_mode, str) or not dataset_mode or '/' in dataset_mode:
            raise ValueError(f"LFBInferHead: dataset_mode must be a name such as 'train', 'val' or 'test'; got "
                             f'{dataset_mode!r}')
        self.lfb_prefix_path, self.dataset_mode, self.use_half_precision = (lfb_prefix_path, dataset_mode,
                                                                             use_half_precision)
        self.temporal_pool, self.spatial_pool = roi_pools(temporal_pool_type, spatial_pool_type, 'LFBInferHead')
        self.all_features: list[torch.Tensor] = []
        self.all_metadata: list[str] = []

    def bind(self, channels: int, frame_channels: int) -> int:
        """The RoI features pass through: ``channels`` out (``frame_channels`` unused)."""
        return channels

    def forward(self, roi_feats: torch.Tensor, feat: torch.Tensor | None, rois: torch.Tensor,
                img_metas: Sequence[dict] | None = None, **kwargs) -> torch.Tensor:
        """Record (eval mode) each RoI's pooled feature (C,) with its 'img_key'; returns ``roi_feats`` as given."""
        if not self.training:
            keys = img_keys(rois, img_metas, 'LFBInferHead')
            pooled = self.spatial_pool(self.temporal_pool(roi_feats.detach())).flatten(1)
            if self.use_half_precision:
                pooled = pooled.half()
            self.all_metadata += keys
            self.all_features += list(pooled.cpu())
        return roi_feats

    def write_bank(self) -> str | None:
        """Write the recorded features as ``lfb_{dataset_mode}.pkl`` (all ranks call it) and forget them; returns
        the file's path on rank 0."""
        entries = list(zip(self.all_metadata, self.all_features))
        self.all_features, self.all_metadata = [], []
        path = write_bank(entries, self.lfb_prefix_path, self.dataset_mode)
        if path is not None:
            print_log(f'LFBInferHead: {len(entries)} features (this rank) written to the bank {path}',
                      logger='current')
        return path
