"""Video ResNet (I3D-style, Carreira & Zisserman 2017): mmaction2's arguments translated onto the one core.

Argument names follow mmaction2's ResNet3d, so its backbone configs carry over. This class only translates them
into the core's data: a TemporalPlan (the stem's temporal kernel/strides, per-stage temporal strides, a temporal
kernel per conv of every block from ``inflate``/``inflate_style``, and mmaction2's temporal max-pool before the
second stage) plus the spatial strides, and mmaction2's non-local blocks as BlockAddons. Weights of a 2D ResNet
load into it by inflation (``weights.inflate``).
"""
from __future__ import annotations

from typing import Sequence

from ..layers.non_local import NonLocal3d
from ..registry import MODELS
from .addons import BlockAddon
from .resnet import ARCH_SETTINGS, ResNet
from .temporal import TemporalPlan
from .validation import check_choice, per_stage, positive_ints

INFLATE_STYLES = ('3x1x1', '3x3x3')
NOT_IN_3D = {'strides': "use spatial_strides (mmaction2's name)", 'small_stem': 'not available in 3D',
             'stem_stride': 'use conv1_stride_s', 'stem_pool_stride': 'use pool1_stride_s / with_pool1',
             'dcn': 'not available in 3D', 'stage_with_dcn': 'not available in 3D',
             'temporal': 'it is built from the mmaction2 arguments',
             'block_addons': 'they are built from non_local / non_local_cfg'}


def block_flags(name: str, value: int | Sequence[int], num_blocks: int) -> tuple[bool, ...]:
    """One stage's ``inflate`` / ``non_local`` entry (0/1 for all blocks, or one 0/1 per block) as a flag per block."""
    flags = (value,) * num_blocks if isinstance(value, int) else tuple(value)
    if len(flags) != num_blocks or any(f not in (0, 1) or isinstance(f, float) for f in flags):
        raise ValueError(f'{name} must be 0, 1 or a sequence of {num_blocks} zeros and ones (one per block); '
                         f'got {value!r}')
    return tuple(bool(f) for f in flags)


def inflated_kernels(num_convs: int, inflate_style: str) -> tuple[int, ...]:
    """Temporal kernels of an inflated block's convs: a bottleneck's first 1x1 ('3x1x1') or its 3x3 ('3x3x3');
    both convs of a basic block either way (mmaction2's BasicBlock3d, so its R18/R34 checkpoints load)."""
    if num_convs == 2:
        return (3, 3)
    return (1, 3, 1) if inflate_style == '3x3x3' else (3, 1, 1)


@MODELS.register_module()
class ResNet3d(ResNet):
    """3D ResNet for (N, C, T, H, W) clips; returns a tuple of (N, C_i, T_i, H_i, W_i) features.

    Takes mmaction2's ResNet3d arguments, so its backbone configs carry over verbatim (depth defaults to 50 there
    and here: PoseC3D's pose_only config names none). Besides ResNet's depth,
    in_channels, base_channels, num_stages, stage_blocks, dilations, style, avg_down, frozen_stages, conv_cfg,
    norm_cfg, with_cp, zero_init_residual, drop_path_rate, init_cfg / pretrained:
        out_indices: as ResNet's; default (3,), mmaction2's last stage.
        spatial_strides / temporal_strides: per stage (mmaction2 names; ResNet's ``strides`` is the spatial one).
        conv1_kernel: (t, 7, 7) stem kernel; conv1_stride_s / conv1_stride_t: spatial and temporal stride of the
            stem conv; pool1_stride_s / pool1_stride_t: of the stem's max-pool; with_pool1: whether it runs.
        with_pool2: a (2, 1, 1) temporal max-pool on the first stage's output, halving T (rounded down), as
            mmaction2: the first stage's feature (out_indices 0) is the pooled one.
        inflate: per stage, 1/0 for every block or one flag per block: inflated blocks get temporal kernels of 3
            (see ``inflated_kernels``); None: every block.
        act_cfg: mmaction2's activation config; only ReLU, the activation of its ResNet3d, is supported.
        non_local: per stage, 1/0 for every block or one flag per block: a NonLocal3d after that block's activation
            (mmaction2's ``layerN.i.non_local_block``), e.g. ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))
            for I3D-NL R50; None: none. non_local_cfg: its arguments (``layers.non_local.NonLocal3d``: mode, reduction,
            use_scale, sub_sample, norm_cfg ...).
        stem_mid_channels: middle width of the stem conv when ``conv_cfg`` factorises convs into (2+1)D (see
            ResNet2Plus1d); None: the (2+1)D formula.
        pretrained2d: mmaction2's flag that ``pretrained`` is a 2D checkpoint to inflate. Accepted for its configs;
            loading inflates 2D kernels whenever the checkpoint has them, so the flag changes nothing here.
        norm_eval: default False (video models usually train their batch norms).
    """

    def __init__(self, depth: int = 50, out_indices: Sequence[int | str] = (3,), num_stages: int = 4,
                 stage_blocks: Sequence[int] | None = None, spatial_strides: Sequence[int] = (1, 2, 2, 2),
                 temporal_strides: Sequence[int] = (1, 1, 1, 1), conv1_kernel: Sequence[int] = (3, 7, 7),
                 conv1_stride_s: int = 2, conv1_stride_t: int = 1, pool1_stride_s: int = 2, pool1_stride_t: int = 1,
                 with_pool1: bool = True, with_pool2: bool = True,
                 inflate: Sequence[int | Sequence[int]] | None = None, inflate_style: str = '3x1x1',
                 non_local: Sequence[int | Sequence[int]] | None = None, non_local_cfg: dict | None = None,
                 stem_mid_channels: int | None = None, act_cfg: dict | None = None, pretrained2d: bool = True,
                 norm_eval: bool = False, **kwargs):
        for name, hint in NOT_IN_3D.items():
            if name in kwargs:
                raise ValueError(f'ResNet3d does not take {name}: {hint}')
        check_choice('depth', depth, tuple(ARCH_SETTINGS))
        check_choice('inflate_style', inflate_style, INFLATE_STYLES)
        check_choice('num_stages', num_stages, (1, 2, 3, 4))
        if act_cfg is not None and act_cfg.get('type') != 'ReLU':
            raise ValueError(f"ResNet3d: act_cfg must be dict(type='ReLU') (mmaction2's ResNet3d); got {act_cfg}")
        if isinstance(conv1_kernel, int):  # mmaction2 reads one number as (k, k, k) (_triple)
            conv1_kernel = (conv1_kernel,) * 3
        if not isinstance(conv1_kernel, (list, tuple)) or len(conv1_kernel) != 3 or \
                tuple(conv1_kernel)[1:] != (7, 7) or conv1_kernel[0] % 2 == 0:
            raise ValueError(f'conv1_kernel must be (t, 7, 7) with an odd t; got {conv1_kernel!r}')
        for name, value in (('conv1_stride_t', conv1_stride_t), ('pool1_stride_t', pool1_stride_t),
                            ('conv1_stride_s', conv1_stride_s), ('pool1_stride_s', pool1_stride_s)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1; got {value!r}')
        block, depth_blocks = ARCH_SETTINGS[depth]
        stage_blocks = per_stage('stage_blocks', stage_blocks, depth_blocks, num_stages)
        inflate = per_stage('inflate', inflate, (1, 1, 1, 1), num_stages)
        on, off = inflated_kernels(block.num_convs, inflate_style), (1,) * block.num_convs
        kernels = tuple(tuple(on if flag else off for flag in block_flags(f'inflate[{i}]', inflate[i], n))
                        for i, n in enumerate(stage_blocks))
        plan = TemporalPlan(
            stem_kernel=conv1_kernel[0], stem_stride=conv1_stride_t, stem_pool_stride=pool1_stride_t,
            stage_strides=positive_ints('temporal_strides', per_stage('temporal_strides', temporal_strides,
                                                                      (1, 1, 1, 1), num_stages)),
            block_kernels=kernels, exit_pools=tuple(2 if with_pool2 and i == 0 else 1 for i in range(num_stages)),
            stem_mid_channels=stem_mid_channels)
        non_local = per_stage('non_local', non_local, (0, 0, 0, 0), num_stages)
        addon = BlockAddon('non_local_block', 'output', NonLocal3d, dict(non_local_cfg or {}))
        addons = tuple(tuple((addon,) if flag else () for flag in block_flags(f'non_local[{i}]', non_local[i], n))
                       for i, n in enumerate(stage_blocks))
        super().__init__(depth=depth, out_indices=out_indices, num_stages=num_stages, stage_blocks=stage_blocks,
                         strides=per_stage('spatial_strides', spatial_strides, (1, 2, 2, 2), num_stages),
                         stem_stride=conv1_stride_s, stem_pool_stride=pool1_stride_s if with_pool1 else None,
                         norm_eval=norm_eval, temporal=plan,
                         block_addons=addons if any(any(stage) for stage in addons) else None, **kwargs)
