"""TemporalPlan: how the core extends along the leading axis of (N, C, T, H, W) inputs, given as data.

A 2D ResNet has no plan (``temporal=None``). A video ResNet is the same core with a plan: the temporal kernel and
stride of the stem conv and its max-pool, a temporal stride per stage, a temporal kernel per conv of every block,
and optional temporal max-pools before a stage (mmaction2's ``pool2``). The axis need not be time: a volumetric
encoder uses the same plan for depth. Argument translators (``ResNet3d``) build the plan from their users' terms.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemporalPlan:
    """The leading-axis settings of a 3D core; every tuple has one entry per built stage.

    Args:
        stem_kernel / stem_stride: temporal kernel and stride of the first stem conv.
        stem_pool_stride: temporal stride of the stem's max-pool.
        stage_strides: temporal stride of each stage (applied by its first block, like the spatial one).
        block_kernels: per stage, per block, the temporal kernel of each of the block's convs
            (e.g. ``((3, 1, 1), (1, 1, 1))`` for a two-block stage of bottlenecks whose first block is inflated).
        exit_pools: temporal max-pool size (= stride) applied to each stage's output, before it is returned as a
            feature (mmaction2's pool2 after layer1); 1 for none.
        pool_ceil_mode: whether those pools round the temporal length up (True) or down (False, mmaction2's).
        stem_pool_kernel: temporal size of the stem's max-pool (1; 3 for MedicalNet's 3x3x3 pool over depth).
        dilate: stage dilations apply along this axis too (volumes), not only in-plane (video).
        stem_mid_channels: middle width of the stem conv when the layers factorise it into (2+1)D (torchvision's
            R(2+1)D stem: 45); None: the (2+1)D formula. Plain 3D convs ignore it.
    """

    stem_kernel: int
    stem_stride: int
    stem_pool_stride: int
    stage_strides: tuple[int, ...]
    block_kernels: tuple[tuple[tuple[int, ...], ...], ...]
    exit_pools: tuple[int, ...]
    pool_ceil_mode: bool = False
    stem_mid_channels: int | None = None
    stem_pool_kernel: int = 1
    dilate: bool = False

    def __post_init__(self):
        stages = len(self.stage_strides)
        if len(self.block_kernels) != stages or len(self.exit_pools) != stages:
            raise ValueError(f'TemporalPlan: stage_strides, block_kernels and exit_pools need one entry per stage; '
                             f'got {stages}, {len(self.block_kernels)} and {len(self.exit_pools)}')
        for name in ('stem_kernel', 'stem_stride', 'stem_pool_stride'):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f'TemporalPlan: {name} must be an integer >= 1; got {getattr(self, name)!r}')
        if self.stem_mid_channels is not None and (not isinstance(self.stem_mid_channels, int)
                                                   or self.stem_mid_channels < 1):
            raise ValueError(f'stem_mid_channels must be an integer >= 1 or None; got {self.stem_mid_channels!r}')

    def truncated(self, num_stages: int) -> 'TemporalPlan':
        """The plan of the first ``num_stages`` stages (the core builds only the stages it runs)."""
        return TemporalPlan(self.stem_kernel, self.stem_stride, self.stem_pool_stride,
                            self.stage_strides[:num_stages], self.block_kernels[:num_stages],
                            self.exit_pools[:num_stages], self.pool_ceil_mode, self.stem_mid_channels,
                            self.stem_pool_kernel, self.dilate)
