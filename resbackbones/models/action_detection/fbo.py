"""mmaction2's feature bank operators: how a RoI's short-term feature meets the long-term features sampled for it.

Inputs are the pooled RoI feature ``st_feat`` (R, C, 1, 1, 1) and the bank's features ``lt_feat`` (R, C_lt, L, 1, 1),
L = window_size * max_num_sampled_feat. ``FBOAvg`` / ``FBOMax`` pool the bank over L; ``FBONonLocal`` projects both
to ``latent_channels`` and lets the RoI attend to the bank through ``num_non_local_layers`` residual non-local layers.
Module names are mmaction2's (the layers' convs are mmcv ConvModules: ``.conv``), so its checkpoints load key for key.
"""
from __future__ import annotations

import torch
from torch import nn

from ...layers.non_local import ConvNorm


def _kaiming(conv: nn.Conv3d) -> None:
    """mmengine's ``kaiming_init`` defaults (fan_out, ReLU gain, normal, zero bias), as mmaction2 initialises."""
    nn.init.kaiming_normal_(conv.weight, mode='fan_out', nonlinearity='relu')
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class NonLocalLayer(nn.Module):
    """One attention of ``num_st_feat`` queries over ``num_lt_feat`` bank entries (mmaction2's NonLocalLayer):
    softmax(theta(st)^T phi(lt) / sqrt(latent)) weighs g(lt); then LayerNorm + ReLU (``pre_activate``), out_conv,
    dropout. Args as mmaction2's (``conv_cfg`` / ``norm_cfg``: only Conv3d without a norm, the FBO's use)."""

    def __init__(self, st_feat_channels: int, lt_feat_channels: int, latent_channels: int, num_st_feat: int,
                 num_lt_feat: int, use_scale: bool = True, pre_activate: bool = True, pre_activate_with_ln: bool = True,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None, dropout_ratio: float = 0.2,
                 zero_init_out_conv: bool = False):
        super().__init__()
        if (conv_cfg or {}).get('type', 'Conv3d') != 'Conv3d' or norm_cfg is not None:
            raise ValueError(f'NonLocalLayer: only conv_cfg Conv3d without norm_cfg is provided; got {conv_cfg!r}, '
                             f'{norm_cfg!r}')
        self.latent_channels, self.num_st_feat, self.num_lt_feat = latent_channels, num_st_feat, num_lt_feat
        self.use_scale, self.pre_activate, self.pre_activate_with_ln = use_scale, pre_activate, pre_activate_with_ln
        self.dropout_ratio = dropout_ratio
        self.st_feat_conv = ConvNorm(st_feat_channels, latent_channels)
        self.lt_feat_conv = ConvNorm(lt_feat_channels, latent_channels)
        self.global_conv = ConvNorm(lt_feat_channels, latent_channels)
        self.ln = nn.LayerNorm([latent_channels if pre_activate else st_feat_channels, num_st_feat, 1, 1])
        self.relu = nn.ReLU()
        self.out_conv = ConvNorm(latent_channels, st_feat_channels)
        if dropout_ratio > 0:
            self.dropout = nn.Dropout(dropout_ratio)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                _kaiming(m)
        if zero_init_out_conv:  # mmaction2 means this; its constant_init on the ConvModule leaves the conv as is
            nn.init.zeros_(self.out_conv.conv.weight)
            nn.init.zeros_(self.out_conv.conv.bias)

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        n, c = st_feat.shape[0], self.latent_channels
        theta = self.st_feat_conv(st_feat).view(n, c, self.num_st_feat)
        phi = self.lt_feat_conv(lt_feat).view(n, c, self.num_lt_feat)
        g = self.global_conv(lt_feat).view(n, c, self.num_lt_feat)
        theta_phi = torch.matmul(theta.permute(0, 2, 1), phi)  # (n, num_st, num_lt)
        if self.use_scale:
            theta_phi = theta_phi / c ** 0.5
        out = torch.matmul(g, theta_phi.softmax(dim=-1).permute(0, 2, 1)).view(n, c, self.num_st_feat, 1, 1)
        if self.pre_activate:
            if self.pre_activate_with_ln:
                out = self.ln(out)
            out = self.relu(out)
        out = self.out_conv(out)
        if not self.pre_activate:
            out = self.ln(out)
        return self.dropout(out) if self.dropout_ratio > 0 else out


class FBONonLocal(nn.Module):
    """Non-local feature bank operator: 1x1x1 convs to ``latent_channels`` (dropout on each), then
    ``num_non_local_layers`` residual ``NonLocalLayer``s (``non_local_layer_1`` ...); out: (R, latent, 1, 1, 1)."""

    def __init__(self, st_feat_channels: int, lt_feat_channels: int, latent_channels: int, num_st_feat: int,
                 num_lt_feat: int, num_non_local_layers: int = 2, st_feat_dropout_ratio: float = 0.2,
                 lt_feat_dropout_ratio: float = 0.2, pre_activate: bool = True, zero_init_out_conv: bool = False,
                 **kwargs):
        super().__init__()
        if num_non_local_layers < 1:
            raise ValueError(f'FBONonLocal: num_non_local_layers must be >= 1; got {num_non_local_layers}')
        self.st_feat_channels, self.lt_feat_channels, self.latent_channels = (st_feat_channels, lt_feat_channels,
                                                                               latent_channels)
        self.num_st_feat, self.num_lt_feat, self.pre_activate = num_st_feat, num_lt_feat, pre_activate
        self.st_feat_dropout_ratio, self.lt_feat_dropout_ratio = st_feat_dropout_ratio, lt_feat_dropout_ratio
        self.st_feat_conv = nn.Conv3d(st_feat_channels, latent_channels, kernel_size=1)
        self.lt_feat_conv = nn.Conv3d(lt_feat_channels, latent_channels, kernel_size=1)
        _kaiming(self.st_feat_conv)
        _kaiming(self.lt_feat_conv)
        if st_feat_dropout_ratio > 0:
            self.st_feat_dropout = nn.Dropout(st_feat_dropout_ratio)
        if lt_feat_dropout_ratio > 0:
            self.lt_feat_dropout = nn.Dropout(lt_feat_dropout_ratio)
        if not pre_activate:
            self.relu = nn.ReLU()
        self.non_local_layers = [f'non_local_layer_{i + 1}' for i in range(num_non_local_layers)]
        for name in self.non_local_layers:
            self.add_module(name, NonLocalLayer(latent_channels, latent_channels, latent_channels, num_st_feat,
                                                num_lt_feat, pre_activate=pre_activate,
                                                zero_init_out_conv=zero_init_out_conv))

    @property
    def out_channels(self) -> int:
        return self.latent_channels

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        st_feat = self.st_feat_conv(st_feat)
        if self.st_feat_dropout_ratio > 0:
            st_feat = self.st_feat_dropout(st_feat)
        lt_feat = self.lt_feat_conv(lt_feat)
        if self.lt_feat_dropout_ratio > 0:
            lt_feat = self.lt_feat_dropout(lt_feat)
        for name in self.non_local_layers:
            st_feat = st_feat + getattr(self, name)(st_feat, lt_feat)
            if not self.pre_activate:
                st_feat = self.relu(st_feat)
        return st_feat


class FBOAvg(nn.Module):
    """The bank averaged over its L entries: (R, C_lt, 1, 1, 1)."""

    def __init__(self, lt_feat_channels: int | None = None, **kwargs):
        super().__init__()
        self.lt_feat_channels = lt_feat_channels
        self.avg_pool = nn.AdaptiveAvgPool3d((1, None, None))

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        return self.avg_pool(lt_feat)


class FBOMax(nn.Module):
    """The bank max-pooled over its L entries: (R, C_lt, 1, 1, 1)."""

    def __init__(self, lt_feat_channels: int | None = None, **kwargs):
        super().__init__()
        self.lt_feat_channels = lt_feat_channels
        self.max_pool = nn.AdaptiveMaxPool3d((1, None, None))

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        return self.max_pool(lt_feat)


OPERATORS = {'non_local': FBONonLocal, 'avg': FBOAvg, 'max': FBOMax}
