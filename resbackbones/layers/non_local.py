"""Non-local block (Wang et al., 2018) for (N, C, T, H, W) features: each position attends to every other.

Arguments, arithmetic and module names are mmcv's ``NonLocal3d`` (what mmaction2's I3D-NL and TSM-NL use), so their
checkpoints load key for key: ``g``, ``theta``, ``phi`` and ``conv_out`` are mmcv ConvModules (``.conv`` and, for
``conv_out`` with a norm, ``.bn``); with ``sub_sample`` the pooled branches are ``Sequential(ConvModule, MaxPool)``,
so their keys are ``g.0.conv.*`` / ``phi.0.conv.*``. ``y = x + conv_out(attention(theta(x), phi(x)) @ g(x))``.
"""
from __future__ import annotations

import torch
from torch import nn

from .norm import build_norm_layer
from .temporal_shift import clips_of

MODES = ('embedded_gaussian', 'dot_product', 'gaussian', 'concatenation')


class ConvNorm(nn.Module):
    """A conv (1x1x1 unless told) and an optional norm, named as mmcv's ConvModule (``conv``, ``bn``/``gn``) for its
    keys.

    As in ConvModule, the conv has a bias only when there is no norm; ``act`` (ReLU) is for ``concat_project`` and
    mmaction2's ACRN head.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict | None = None, dims: int = 3,
                 act: bool = False, bias: bool | None = None, kernel_size=1, stride=1, padding=0):
        super().__init__()
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.conv = conv(in_channels, out_channels, kernel_size, stride, padding,
                         bias=norm_cfg is None if bias is None else bias)
        self.norm_name = None
        if norm_cfg is not None:
            self.norm_name = 'gn' if norm_cfg.get('type') == 'GN' else 'bn'
            self.add_module(self.norm_name, build_norm_layer(norm_cfg, out_channels, dims))
        self.act = nn.ReLU(inplace=True) if act else None

    @property
    def norm(self) -> nn.Module | None:
        return None if self.norm_name is None else getattr(self, self.norm_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return x if self.act is None else self.act(x)


class NonLocal3d(nn.Module):
    """Non-local block over all T x H x W positions of (N, C, T, H, W) inputs; output has the input's shape.

    Args:
        in_channels: C. reduction: the embeddings have max(C // reduction, 1) channels.
        use_scale: divide the embedded-Gaussian affinities by sqrt(inter channels) before the softmax.
        sub_sample: max-pool the ``g`` and ``phi`` branches by 2 in H and W (keys attend to a quarter of positions).
        conv_cfg: None or dict(type='Conv3d') (the only conv mmcv's NonLocal3d uses here).
        norm_cfg: norm after ``conv_out`` (mmaction2: dict(type='BN3d', requires_grad=True)); None: none.
        mode: 'embedded_gaussian' (softmax of theta.phi), 'dot_product' (theta.phi / positions), 'gaussian' (softmax
            of x.x, no theta/phi convs), 'concatenation' (ReLU(w [theta, phi]) / positions).
        std / zeros_init: init of the embeddings (normal, std) and of conv_out's norm (or conv) to zero, so a new
            block starts as the identity (mmcv's init_weights arguments).
        num_segments: when set, 4D inputs (N * num_segments, C, H, W) are folded into clips and back (TSM).
    """

    def __init__(self, in_channels: int, reduction: int = 2, use_scale: bool = True, sub_sample: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None, mode: str = 'embedded_gaussian',
                 std: float = 0.01, zeros_init: bool = True, num_segments: int | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f'NonLocal3d mode must be one of {MODES}; got {mode!r}')
        if conv_cfg is not None and conv_cfg.get('type') != 'Conv3d':
            raise ValueError(f"NonLocal3d conv_cfg must be None or dict(type='Conv3d'); got {conv_cfg}")
        if not isinstance(reduction, int) or reduction < 1:
            raise ValueError(f'NonLocal3d reduction must be an integer >= 1; got {reduction!r}')
        if num_segments is not None and (not isinstance(num_segments, int) or num_segments < 1):
            raise ValueError(f'NonLocal3d num_segments must be an integer >= 1 or None; got {num_segments!r}')
        self.in_channels, self.mode, self.use_scale, self.sub_sample = in_channels, mode, use_scale, sub_sample
        self.inter_channels = max(in_channels // reduction, 1)
        self.std, self.zeros_init, self.num_segments = std, zeros_init, num_segments
        pool = nn.MaxPool3d(kernel_size=(1, 2, 2)) if sub_sample else None

        def pooled(module: nn.Module) -> nn.Module:
            return module if pool is None else nn.Sequential(module, pool)

        self.g = pooled(ConvNorm(in_channels, self.inter_channels))
        self.conv_out = ConvNorm(self.inter_channels, in_channels, norm_cfg)
        if mode == 'gaussian':
            self.phi = pool  # None without sub_sample: x itself
        else:
            self.theta = ConvNorm(in_channels, self.inter_channels)
            self.phi = pooled(ConvNorm(in_channels, self.inter_channels))
        if mode == 'concatenation':
            self.concat_project = ConvNorm(self.inter_channels * 2, 1, dims=2, act=True, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """mmcv's init: embeddings ~ N(0, std) with zero bias; conv_out's norm (or conv) zero when zeros_init."""
        embeddings = [self.g] if self.mode == 'gaussian' else [self.g, self.theta, self.phi]
        for branch in embeddings:
            conv = (branch[0] if isinstance(branch, nn.Sequential) else branch).conv
            nn.init.normal_(conv.weight, 0, self.std)
            nn.init.zeros_(conv.bias)
        last = self.conv_out.norm if self.conv_out.norm is not None else self.conv_out.conv
        if self.zeros_init:
            nn.init.zeros_(last.weight)
        else:
            nn.init.normal_(last.weight, 0, self.std)
        if last.bias is not None:
            nn.init.zeros_(last.bias)

    def affinity(self, theta_x: torch.Tensor, phi_x: torch.Tensor) -> torch.Tensor:
        """(N, P, P') pairwise weights from (N, P, C') queries and (N, C', P') keys."""
        if self.mode == 'concatenation':  # theta_x (N, C', P, 1), phi_x (N, C', 1, P')
            pairs = torch.cat([theta_x.expand(-1, -1, -1, phi_x.shape[3]),
                               phi_x.expand(-1, -1, theta_x.shape[2], -1)], dim=1)
            weight = self.concat_project(pairs).squeeze(1)
            return weight / weight.shape[-1]
        weight = torch.matmul(theta_x, phi_x)
        if self.mode == 'dot_product':
            return weight / weight.shape[-1]
        if self.mode == 'embedded_gaussian' and self.use_scale:
            weight = weight / theta_x.shape[-1] ** 0.5
        return weight.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        folded = x.dim() == 4 and self.num_segments is not None
        if folded:  # (N * T, C, H, W) -> (N, C, T, H, W)
            x = clips_of(x, self.num_segments, 'NonLocal3d').transpose(1, 2)
        if x.dim() != 5:
            raise ValueError(f'NonLocal3d takes (N, C, T, H, W) features (or (N * T, C, H, W) with num_segments); '
                             f'got shape {tuple(x.shape)}')
        n = x.shape[0]
        g_x = self.g(x).reshape(n, self.inter_channels, -1).transpose(1, 2)
        if self.mode == 'gaussian':
            theta_x = x.reshape(n, self.in_channels, -1).transpose(1, 2)
            phi_x = (x if self.phi is None else self.phi(x)).reshape(n, self.in_channels, -1)
        elif self.mode == 'concatenation':
            theta_x = self.theta(x).reshape(n, self.inter_channels, -1, 1)
            phi_x = self.phi(x).reshape(n, self.inter_channels, 1, -1)
        else:
            theta_x = self.theta(x).reshape(n, self.inter_channels, -1).transpose(1, 2)
            phi_x = self.phi(x).reshape(n, self.inter_channels, -1)
        y = torch.matmul(self.affinity(theta_x, phi_x), g_x)
        out = x + self.conv_out(y.transpose(1, 2).reshape(n, self.inter_channels, *x.shape[2:]))
        if folded:
            out = out.transpose(1, 2).flatten(0, 1)
        return out
