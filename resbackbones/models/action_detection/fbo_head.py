"""mmaction2's ``FBOHead`` (feature bank operator): each RoI's pooled feature joined with what a long-term feature
bank holds around its key frame.

The ``shared_head`` of ``AVARoIHead`` in mmaction2's LFB configs: the RoI feature (R, C, T, h, w) is pooled to
(R, C, 1, 1, 1), the bank (``LFB``) gives (L, C_lt) per RoI for its clip's 'img_key', an operator (``fbo.py``:
'non_local', 'avg', 'max') fuses them, and the output is [pooled RoI, operator] along channels: (R, C + C', 1, 1, 1)
(2048 + 512 for 'non_local', 2048 + 2048 for 'avg' / 'max' in mmaction2's configs). Module names (``fbo``, the
operator's own) are mmaction2's, so its checkpoints load key for key; the bank itself has no parameters.
"""
from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from ...registry import MODELS
from .fbo import OPERATORS
from .lfb import LFB

POOLS = {'avg': nn.AdaptiveAvgPool3d, 'max': nn.AdaptiveMaxPool3d}


def roi_pools(temporal_pool_type: str, spatial_pool_type: str, owner: str) -> tuple[nn.Module, nn.Module]:
    """mmaction2's pooling of a RoI feature to (R, C, 1, 1, 1): over time, then over space ('avg' or 'max')."""
    for name, value in (('temporal_pool_type', temporal_pool_type), ('spatial_pool_type', spatial_pool_type)):
        if value not in POOLS:
            raise ValueError(f"{owner}: {name} must be 'avg' or 'max'; got {value!r}")
    return POOLS[temporal_pool_type]((1, None, None)), POOLS[spatial_pool_type]((None, 1, 1))


def img_keys(rois: torch.Tensor, img_metas: Sequence[dict] | None, owner: str) -> list[str]:
    """The 'img_key' ('video_id,second') of each RoI's clip, named when missing."""
    if img_metas is None:
        raise ValueError(f"{owner}: needs the clips' data samples (img_metas with 'img_key')")
    keys = []
    for index in rois[:, 0].long().tolist():
        meta = img_metas[index]
        key = meta.get('img_key') if isinstance(meta, dict) else getattr(meta, 'img_key', None)
        if key is None:
            raise ValueError(f"{owner}: data sample {index} has no 'img_key' ('video_id,second'; AVADataset sets it)")
        keys.append(key)
    return keys


@MODELS.register_module()
class FBOHead(nn.Module):
    """Args (mmaction2's):
        lfb_cfg: the ``LFB`` arguments (lfb_prefix_path, max_num_sampled_feat, window_size, lfb_channels,
            dataset_modes, device).
        fbo_cfg: the operator's: ``type`` 'non_local' (default), 'avg' or 'max', and its arguments
            (st_feat_channels, lt_feat_channels, latent_channels, num_st_feat, num_lt_feat, ...).
        temporal_pool_type / spatial_pool_type: pooling of the RoI feature, 'avg' / 'max' by default.
    """

    def __init__(self, lfb_cfg: dict, fbo_cfg: dict, temporal_pool_type: str = 'avg', spatial_pool_type: str = 'max'):
        super().__init__()
        self.lfb_cfg, self.fbo_cfg = copy.deepcopy(dict(lfb_cfg)), copy.deepcopy(dict(fbo_cfg))
        kind = self.fbo_cfg.pop('type', 'non_local')
        if kind not in OPERATORS:
            raise ValueError(f'FBOHead: fbo_cfg.type must be one of {tuple(OPERATORS)}; got {kind!r}')
        self.lfb = LFB(**self.lfb_cfg)
        if kind == 'non_local':
            lt = self.fbo_cfg.get('lt_feat_channels')
            num_lt = self.fbo_cfg.get('num_lt_feat')
            expected = self.lfb.window_size * self.lfb.max_num_sampled_feat
            if lt != self.lfb.lfb_channels or num_lt != expected:
                raise ValueError(f'FBOHead: fbo_cfg lt_feat_channels={lt} and num_lt_feat={num_lt} must match the '
                                 f'bank: lfb_channels={self.lfb.lfb_channels}, window_size * max_num_sampled_feat='
                                 f'{expected}')
        self.fbo = OPERATORS[kind](**self.fbo_cfg)
        self.temporal_pool, self.spatial_pool = roi_pools(temporal_pool_type, spatial_pool_type, 'FBOHead')

    @staticmethod
    def out_channels_of(cfg: dict, channels: int) -> int:
        """Channels out of an FBOHead config given ``channels`` in: the RoI's plus the operator's."""
        fbo = cfg.get('fbo_cfg') or {}
        if fbo.get('type', 'non_local') == 'non_local':
            return channels + fbo.get('latent_channels', 0)
        return channels + (cfg.get('lfb_cfg') or {}).get('lfb_channels', 2048)

    def bind(self, channels: int, frame_channels: int) -> int:
        """Check the RoI feature's ``channels`` against the operator (``frame_channels`` unused: the bank
        replaces the frame); returns the channels out."""
        fbo_in = getattr(self.fbo, 'st_feat_channels', None)
        if fbo_in is not None and fbo_in != channels:
            raise ValueError(f'roi_head.shared_head.fbo_cfg.st_feat_channels={fbo_in}, but the RoI features have '
                             f'{channels} channels')
        extra = self.fbo.out_channels if hasattr(self.fbo, 'out_channels') else self.lfb.lfb_channels
        return channels + extra

    def sample_lfb(self, rois: torch.Tensor, img_metas: Sequence[dict] | None) -> torch.Tensor:
        """(R, lfb_channels, L, 1, 1) long-term features, one draw per RoI in RoI order (mmaction2's)."""
        lt_feat = torch.stack([self.lfb[key] for key in img_keys(rois, img_metas, 'FBOHead')])
        return lt_feat.permute(0, 2, 1).contiguous()[..., None, None]

    def forward(self, roi_feats: torch.Tensor, feat: torch.Tensor | None, rois: torch.Tensor,
                img_metas: Sequence[dict] | None = None, **kwargs) -> torch.Tensor:
        """``roi_feats`` (R, C, T, h, w) -> (R, C + C', 1, 1, 1); ``feat`` (the frames' features) is not used."""
        st_feat = self.spatial_pool(self.temporal_pool(roi_feats))
        lt_feat = self.sample_lfb(rois, img_metas).to(st_feat.device)
        return torch.cat([st_feat, self.fbo(st_feat, lt_feat)], dim=1)
