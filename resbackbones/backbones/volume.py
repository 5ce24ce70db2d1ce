"""Volumetric ResNet (Med3D / MedicalNet style): the one core over (N, C, D, H, W) volumes, depth as the leading axis.

An argument translator, as ResNet3d is for video: depth kernels and strides become a TemporalPlan (the plan's
"temporal" axis is depth here), in-plane strides stay the core's ``strides``. Isotropic by default (3x3x3 convs, a
7x7x7 stride-2 stem, 3x3x3 stride-2 max-pool: MedicalNet's layout, so its checkpoints load), or anisotropic for
thick-slice data (``depth_strides=(1, 1, 2, 2)``, ``depth_kernels=(1, 1, 3, 3)``). Feature specs carry the depth
stride as ``temporal_stride``/``temporal_ops``; ``depth_stride`` and ``depth_output_size`` read them by their
volumetric name. 2D ImageNet weights load by inflation, MedicalNet's 3D weights by key alignment (weights/).
"""
from __future__ import annotations

from typing import Sequence

from ..registry import MODELS
from ..structures import FeatureSpec
from .resnet import ARCH_SETTINGS, ResNet
from .temporal import TemporalPlan
from .validation import check_choice, per_stage

NOT_IN_VOLUME = {'temporal': 'it is built from depth_strides / depth_kernels', 'dcn': 'not available in 3D',
                 'stage_with_dcn': 'not available in 3D'}


def depth_stride(spec: FeatureSpec) -> int:
    """Reduction of a volumetric feature along depth (D of (N, C, D, H, W)); the spec's temporal stride."""
    return spec.temporal_stride


def depth_output_size(spec: FeatureSpec, depth: int) -> int:
    """Depth of the feature for an input of ``depth`` slices (exact per op, like time for video)."""
    return spec.temporal_output_size(depth)


def _positive_ints(name: str, values: Sequence[int], allowed: Sequence[int] | None = None) -> tuple[int, ...]:
    values = tuple(values)
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 or (allowed and v not in allowed)
           for v in values):
        want = f'one of {list(allowed)}' if allowed else 'integers >= 1'
        raise ValueError(f'VolumeResNet: {name} must be {want} per stage; got {values}')
    return values


def _conv_kernels(num_convs: int, depth_kernel: int) -> tuple[int, ...]:
    """Depth kernel of each conv of a block: both 3x3 convs of a basic block; a bottleneck's 3x3 only (its 1x1s
    stay 1x1x1, as in MedicalNet)."""
    return (depth_kernel,) * 2 if num_convs == 2 else (1, depth_kernel, 1)


@MODELS.register_module()
class VolumeResNet(ResNet):
    """3D ResNet encoder for (N, C, D, H, W) volumes (CT, MRI); returns (N, C_i, D_i, H_i, W_i) features.

    Args (besides ResNet's depth, base_channels, num_stages, stage_blocks, dilations, style, avg_down, deep_stem,
    frozen_stages, conv_cfg, norm_cfg, with_cp, zero_init_residual, drop_path_rate, init_cfg / pretrained):
        in_channels: modalities (default 1: one MRI/CT channel).
        strides: in-plane (H, W) stride per stage, default (1, 2, 2, 2).
        depth_strides: depth stride per stage; None: equal to ``strides`` (isotropic). E.g. (1, 1, 2, 2) for thick
            slices, so depth is halved half as often as H and W.
        depth_kernels: depth size (3 or 1) of every conv of each stage; default 3 (3x3x3). 1 gives 1x3x3 convs,
            which mix no slices (for very thick slices).
        stem_depth_kernel: depth size of the first stem conv (default 7, MedicalNet's 7x7x7; 3 with small_stem
            or deep_stem, whose convs are 3x3).
        stem_depth_stride / pool_depth_stride: depth strides of the stem conv and of its max-pool; None: as
            in-plane (2 and 2, or 1 with small_stem). The max-pool is 3x3x3 when it halves depth, else 1x3x3.
        stem_stride / stem_pool_stride / small_stem: in-plane stem settings, as ResNet's.
        out_indices: default ('stem', 0, 1, 2, 3), every scale a U-Net reads.
        norm_eval: default False (segmentation trains its batch norms).
    Dilated stages (``dilations``) dilate kernels along depth too (the plan's ``dilate``; MedicalNet's segmentation
    layout uses strides (1, 2, 1, 1) with dilations (1, 1, 2, 4)). The stem's max-pool is 3x3x3 when it halves depth
    (the plan's ``stem_pool_kernel``), as MedicalNet's.
    """

    basic_dilates_conv2 = True  # MedicalNet's BasicBlock dilates both convs: its weights load and compute alike

    def __init__(self, depth: int, in_channels: int = 1, num_stages: int = 4, strides: Sequence[int] | None = None,
                 depth_strides: Sequence[int] | None = None, depth_kernels: Sequence[int] | None = None,
                 stem_depth_kernel: int | None = None, stem_depth_stride: int | None = None,
                 pool_depth_stride: int | None = None, stage_blocks: Sequence[int] | None = None,
                 out_indices: Sequence[int | str] = ('stem', 0, 1, 2, 3), small_stem: bool = False,
                 stem_stride: int | None = None, stem_pool_stride: int | str | None = 'auto', norm_eval: bool = False,
                 **kwargs):
        for name, hint in NOT_IN_VOLUME.items():
            if name in kwargs:
                raise ValueError(f'VolumeResNet does not take {name}: {hint}')
        check_choice('depth', depth, tuple(ARCH_SETTINGS))
        check_choice('num_stages', num_stages, (1, 2, 3, 4))
        block, depth_blocks = ARCH_SETTINGS[depth]
        blocks = per_stage('stage_blocks', stage_blocks, depth_blocks, num_stages)
        strides = _positive_ints('strides', per_stage('strides', strides, (1, 2, 2, 2), num_stages))
        depth_strides = _positive_ints('depth_strides', per_stage('depth_strides', depth_strides, strides,
                                                                  num_stages))
        kernels = _positive_ints('depth_kernels', per_stage('depth_kernels', depth_kernels, (3,) * 4, num_stages),
                                 (1, 3))
        in_plane_stem = stem_stride or (1 if small_stem else 2)
        pool = (None if small_stem else 2) if stem_pool_stride == 'auto' else stem_pool_stride
        if pool is None and pool_depth_stride not in (None, 1):  # no max-pool: the depth stride went nowhere
            raise ValueError(f'VolumeResNet: pool_depth_stride={pool_depth_stride} needs the stem max-pool, which '
                             f'{"small_stem=True" if stem_pool_stride == "auto" else "stem_pool_stride=None"} removes; '
                             'leave it out or '
                             'set stem_depth_stride')
        three = small_stem or kwargs.get('deep_stem', False)  # stems of 3x3 convs get 3x3x3
        stem_kernel = stem_depth_kernel if stem_depth_kernel is not None else (3 if three else 7)
        stem_t = stem_depth_stride if stem_depth_stride is not None else in_plane_stem
        pool_t = pool_depth_stride if pool_depth_stride is not None else (pool or 1)
        if not isinstance(stem_kernel, int) or stem_kernel < 1 or stem_kernel % 2 == 0:
            raise ValueError(f'VolumeResNet: stem_depth_kernel must be an odd integer >= 1; got {stem_kernel!r}')
        plan = TemporalPlan(stem_kernel=stem_kernel, stem_stride=stem_t, stem_pool_stride=pool_t,
                            stage_strides=depth_strides,
                            block_kernels=tuple((_conv_kernels(block.num_convs, k),) * n
                                                for k, n in zip(kernels, blocks)),
                            exit_pools=(1,) * num_stages, stem_pool_kernel=3 if pool_t > 1 else 1, dilate=True)
        super().__init__(depth, in_channels=in_channels, num_stages=num_stages, strides=strides,
                         stage_blocks=blocks, out_indices=out_indices, small_stem=small_stem,
                         stem_stride=stem_stride, stem_pool_stride=stem_pool_stride, norm_eval=norm_eval,
                         temporal=plan, **kwargs)
        self.depth_strides, self.depth_kernels = depth_strides, kernels
