"""The ResNet core (He et al., 2016) and its registered 2D variants: ResNet, ResNetV1c, ResNetV1d, ResNeXt.

Argument names and defaults follow mmdet's ResNet, so its configs work unchanged. Variants are data: the depth
table, the stem kind and activation, the shortcut kind, the block width formula and, for 3D inputs, a TemporalPlan.
The video (ResNet3d) and face (IResNet) views only translate their users' arguments into these.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from ..layers import LayerFactory, activation_name, build_activation, is_batch_norm
from ..registry import MODELS
from ..structures import FeatureSpec, Ops, rounds_up
from .addons import BlockAddon, check_block_addons
from .blocks import BasicBlock, Bottleneck, ResidualBlock
from .describe import describe_backbone
from .input_checks import check_input, too_small
from .stage import ResStage
from .temporal import TemporalPlan
from .validation import (check_block_options, check_block_widths, check_choice, check_out_indices, check_widths,
                         per_stage, positive_ints)

ARCH_SETTINGS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}
STYLES = ('pytorch', 'caffe')


def _leading(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else value


def _last(value: int | tuple[int, ...]) -> int:
    return value[-1] if isinstance(value, tuple) else value


def _strides_of(module: nn.Module) -> tuple[int, int, Ops, Ops]:
    """(spatial stride, temporal stride, spatial ops, temporal ops) of a chain of convs and pools, read from the
    modules; the ops are (kernel, stride, padding, ceil_mode) along W (resp. time) of those that change the size."""
    spatial, temporal, spatial_ops, temporal_ops = 1, 1, [], []
    for m in module.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
            stride = m.stride if isinstance(m.stride, tuple) else (m.stride,)
            ceil = bool(getattr(m, 'ceil_mode', False))
            kernel, padding, dilation = (_last(getattr(m, a, 1)) for a in ('kernel_size', 'padding', 'dilation'))
            spatial *= stride[-1]
            if stride[-1] > 1 or dilation * (kernel - 1) != 2 * padding:
                spatial_ops.append((dilation * (kernel - 1) + 1, stride[-1], padding, ceil))
            if len(stride) == 3 and stride[0] > 1:
                kernel, padding, dilation = (_leading(getattr(m, a, 1)) for a in ('kernel_size', 'padding', 'dilation'))
                temporal *= stride[0]
                temporal_ops.append((dilation * (kernel - 1) + 1, stride[0], padding, ceil))
    return spatial, temporal, tuple(spatial_ops), tuple(temporal_ops)


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet backbone returning a tuple of multi-scale features.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels (1 for grey/CT, 3 for RGB, N for multi-modal).
        stem_channels: stem output channels (default base_channels). base_channels: width of the first stage.
        num_stages: 1-4 stages. strides / dilations: per stage (ResNet-C/D, DeepLab-style dilation).
        out_indices: which outputs to return, in forward order: 'stem' (stride-2 stem output, before max-pool) and
            stage indices 0..num_stages-1.
        style: 'pytorch' (stride on the 3x3 conv) or 'caffe' (stride on the first 1x1 conv).
        deep_stem: three 3x3 convs instead of one 7x7 (ResNet-C). avg_down: average-pool shortcut (ResNet-D).
        small_stem: one 3x3 stride-1 conv and no max-pool, for CIFAR-sized inputs.
        stem_stride / stem_pool_stride: spatial strides of the first stem conv and of the stem's max-pool (default
            2 and 'auto': 2, or 1 and no max-pool with small_stem); stem_pool_stride None: no max-pool. An explicit
            stride keeps its max-pool with small_stem too.
        stem_pool_padding: spatial padding of the stem's 3x3 max-pool: 1 (default) or 0 (mmaction2's C2D; sizes
            then round down there, which the feature specs' ``spatial_ops`` record).
        stage_blocks: blocks per stage instead of the depth's (mmdet/mmaction2 name), e.g. (2, 2, 2, 2).
        frozen_stages: -1 none, 0 the stem, n the stem and stages 1..n (requires_grad off, norms in eval).
        conv_cfg / norm_cfg: layer configs (norm types BN, SyncBN, GN, FrozenBN). norm_eval: keep every
            batch norm in eval mode during training (mmdet's default for fine-tuning detectors).
        partial_bn: mmaction2's TSN/TRN setting: every BatchNorm2d but the first (the stem's) stays in eval mode
            with its scale and shift frozen during training.
        dcn / stage_with_dcn: deformable conv config (type 'DCN' or 'DCNv2') and the stages that use it.
        with_cp: activation checkpointing. zero_init_residual: start each block as identity (last norm weight 0).
        groups / base_width: grouped-conv width of bottlenecks (ResNeXt, wide ResNet); base_width defaults to
            base_channels, which gives the plain ResNet width.
        channel_separated: None, or 'ir' / 'ip': channel-separated bottlenecks (CSN; ``blocks.Bottleneck``).
        drop_path_rate: stochastic depth, rising linearly from 0 to this rate over the blocks.
        stem_act_cfg: the stem's activation (default ReLU; IResNet: PReLU), kept as attribute ``relu``/``prelu``.
        temporal: a TemporalPlan for (N, C, T, H, W) inputs (3D layers); None (default) for images.
        block_addons: per stage, per block, a tuple of BlockAddons: modules added to that block (mmaction2's
            non-local blocks, TSM's temporal shift); None (default) for plain blocks.
        fused_channels: per stage, channels another pathway concatenates to the stage's input (SlowFast's lateral
            connections, ``slowfast_pathway.py``); the stage's first block and its projection shortcut take them.
            None (default): none. A core with some cannot run its own forward; its two-pathway owner drives it.
        block_widths: per built stage, per block, the block's inner width (the bottleneck's ``width`` of conv1 and
            conv2, the basic block's conv1 output), e.g. [[32, 40], [64, 70], ...] for a channel-pruned model
            (resbackbones/deploy/prune.py writes it); None (default): the variant's formula. Block outputs keep
            their channels, so feature_specs, necks and heads do not change.
        block_options: per built stage, per block, a dict of more keyword arguments for that block, which its class
            must take (ResNetAudio's ``factorize``); None (default): none.
        pretrained: deprecated alias of init_cfg=dict(type='Pretrained', checkpoint=...).
        init_cfg: mmengine init config, a dict or a list of dicts; type 'Pretrained' (keys checkpoint, prefix, source,
            strict, map_location) loads torchvision/timm/mmpretrain/mmdet checkpoints.

    Only the stages up to the last one in ``out_indices`` are built: a stage that never runs would hold parameters
    without gradients (DDP refuses them). ``unbuilt_stages`` names the others, up to the depth's four (num_stages
    below four leaves them out too); loading a full checkpoint reports their keys as ignored.
    """

    arch_settings = ARCH_SETTINGS
    basic_dilates_conv2 = False  # mmdet / mmseg / mmaction2: a dilated basic block dilates its first conv only

    def __init__(self, depth: int, in_channels: int = 3, stem_channels: int | None = None, base_channels: int = 64,
                 num_stages: int = 4, strides: Sequence[int] | None = None, dilations: Sequence[int] | None = None,
                 out_indices: Sequence[int | str] = (0, 1, 2, 3), style: str = 'pytorch', deep_stem: bool = False,
                 avg_down: bool = False, small_stem: bool = False, stem_stride: int | None = None,
                 stem_pool_stride: int | str | None = 'auto', stem_pool_padding: int = 1,
                 stage_blocks: Sequence[int] | None = None, frozen_stages: int = -1, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, norm_eval: bool = True, partial_bn: bool = False,
                 dcn: dict | None = None, stage_with_dcn: Sequence[bool] | None = None, with_cp: bool = False,
                 zero_init_residual: bool = True, groups: int = 1, base_width: int | None = None,
                 channel_separated: str | None = None, drop_path_rate: float = 0.0,
                 stem_act_cfg: dict | None = None, temporal: TemporalPlan | None = None,
                 block_addons: Sequence[Sequence[Sequence[BlockAddon]]] | None = None,
                 fused_channels: Sequence[int] | None = None, block_widths: Sequence[Sequence[int]] | None = None,
                 block_options: Sequence[Sequence[dict]] | None = None, pretrained: str | None = None,
                 init_cfg: dict | list[dict] | None = None):
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('give either pretrained or init_cfg, not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        check_choice('depth', depth, tuple(self.arch_settings))
        check_choice('style', style, STYLES)
        check_choice('num_stages', num_stages, (1, 2, 3, 4))
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'in_channels must be an integer >= 1; got {in_channels!r}')
        if deep_stem and small_stem:
            raise ValueError('deep_stem and small_stem are exclusive: choose one stem')
        if not isinstance(frozen_stages, int) or isinstance(frozen_stages, bool) or \
                not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be an integer in [-1, {num_stages}]; got {frozen_stages!r}')
        check_widths(base_channels, groups, stem_channels, deep_stem)
        if base_width is not None and (not isinstance(base_width, int) or base_width < 1):
            raise ValueError(f'base_width must be an integer >= 1 (None: base_channels); got {base_width!r}')
        if not isinstance(drop_path_rate, (int, float)) or not 0 <= drop_path_rate < 1:
            raise ValueError(f'drop_path_rate must be in [0, 1); got {drop_path_rate!r}')
        if dcn is not None:
            check_choice("dcn['type']", dcn.get('type'), ('DCN', 'DCNv2'))
        block, depth_blocks = self.arch_settings[depth]
        stage_blocks = per_stage('stage_blocks', stage_blocks, depth_blocks, num_stages)
        if any(not isinstance(n, int) or n < 1 for n in stage_blocks):
            raise ValueError(f'stage_blocks must be integers >= 1; got {stage_blocks}')
        block_addons = check_block_addons(block_addons, stage_blocks)
        if stem_pool_stride == 'auto':  # a default, not a value: an explicit 2 keeps its max-pool with small_stem
            stem_pool_stride = None if small_stem else 2
        for name, value in (('stem_stride', stem_stride), ('stem_pool_stride', stem_pool_stride)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                auto = " or 'auto'" if name == 'stem_pool_stride' else ''
                raise ValueError(f'{name} must be an integer >= 1 or None{auto}; got {value!r}')
        check_choice('stem_pool_padding', stem_pool_padding, (0, 1))
        strides = positive_ints('strides', per_stage('strides', strides, (1, 2, 2, 2), num_stages))
        dilations = positive_ints('dilations', per_stage('dilations', dilations, (1, 1, 1, 1), num_stages))
        stage_with_dcn = per_stage('stage_with_dcn', stage_with_dcn, (False,) * 4, num_stages)
        self.fused_channels = per_stage('fused_channels', fused_channels, (0, 0, 0, 0), num_stages)
        if any(not isinstance(c, int) or isinstance(c, bool) or c < 0 for c in self.fused_channels):
            raise ValueError(f'fused_channels must be integers >= 0, one per stage; got {fused_channels!r}')
        if partial_bn and temporal is not None:  # mmaction2's ResNet3d has no such setting: it did nothing here
            raise ValueError(f'{type(self).__name__}: partial_bn is a 2D ResNet setting (mmaction2\'s TSN / TRN); '
                             'a 3D backbone keeps its norms in eval mode with norm_eval=True')
        if temporal is not None and len(temporal.stage_strides) != num_stages:
            raise ValueError(f'temporal plan has {len(temporal.stage_strides)} stages; num_stages is {num_stages}')
        self.out_indices = check_out_indices(out_indices, num_stages)
        built = max((i + 1 for i in self.out_indices if i != 'stem'), default=0)
        self.block_widths = check_block_widths(block_widths, stage_blocks[:built], groups)
        block_options = check_block_options(block_options, stage_blocks[:built])

        self.depth, self.in_channels, self.num_stages = depth, in_channels, num_stages
        self.stem_channels = stem_channels or base_channels
        self.base_channels, self.style = base_channels, style
        self.deep_stem, self.avg_down, self.small_stem = deep_stem, avg_down, small_stem
        self.stem_stride = stem_stride or (1 if small_stem else 2)
        self.stem_pool_stride = stem_pool_stride
        self.stem_pool_padding = stem_pool_padding
        self.frozen_stages, self.norm_eval, self.partial_bn = frozen_stages, norm_eval, partial_bn
        self.zero_init_residual = zero_init_residual
        self.temporal = None if temporal is None else temporal.truncated(built)
        self.layer_factory = LayerFactory(dims=2 if temporal is None else 3, conv_cfg=conv_cfg,
                                          norm_cfg=norm_cfg or dict(type='BN', requires_grad=True),
                                          temporal_dilation=temporal is not None and temporal.dilate)

        self._make_stem(stem_act_cfg)
        total_blocks = sum(stage_blocks)
        rates = [drop_path_rate * i / max(total_blocks - 1, 1) for i in range(total_blocks)]
        channels, self.stage_names, self.exit_pool_names = self.stem_channels, [], []
        for i in range(built):
            first = sum(stage_blocks[:i])
            planes = base_channels * 2**i
            variant = block.variant_kwargs(planes, style, groups, base_width or base_channels, base_channels,
                                           dcn if stage_with_dcn[i] else None, channel_separated)
            if self.basic_dilates_conv2 and issubclass(block, BasicBlock):
                variant['dilate_conv2'] = True
            stage = ResStage(block, channels + self.fused_channels[i], planes, stage_blocks[i], strides[i],
                             dilations[i], avg_down, self.layer_factory, rates[first:first + stage_blocks[i]],
                             with_cp=with_cp,
                             addons=None if block_addons is None else block_addons[i],
                             widths=None if self.block_widths is None else self.block_widths[i],
                             block_options=None if block_options is None else block_options[i],
                             **self._stage_temporal(i), **variant)
            self.add_module(f'layer{i + 1}', stage)
            self.stage_names.append(f'layer{i + 1}')
            self.exit_pool_names.append(self._exit_pool(i))
            channels = stage.out_channels
        # past out_indices or past num_stages (a C4 backbone): a full checkpoint's keys for them are ignored alike
        self.unbuilt_stages = tuple(f'layer{i + 1}' for i in range(built, max(num_stages, len(depth_blocks))))
        self.reset_parameters()
        self.train(self.training)  # applies frozen_stages and norm_eval from the start, not only after train()

    def _stage_temporal(self, index: int) -> dict:
        """The temporal stride and per-block kernels of stage ``index``; nothing for 2D."""
        if self.temporal is None:
            return {}
        return dict(temporal_stride=self.temporal.stage_strides[index],
                    temporal_kernels=self.temporal.block_kernels[index])

    def _exit_pool(self, index: int) -> str | None:
        """Add the temporal max-pool on stage ``index``'s output as ``pool{index + 2}`` (after layer1: mmaction2's
        pool2); its name."""
        size = 1 if self.temporal is None else self.temporal.exit_pools[index]
        if size == 1:
            return None
        self.add_module(f'pool{index + 2}', nn.MaxPool3d((size, 1, 1), (size, 1, 1),
                                                         ceil_mode=self.temporal.pool_ceil_mode))
        return f'pool{index + 2}'

    @property
    def exit_pools(self) -> list[nn.Module | None]:
        """The module run on each built stage's output, or None. Looked up by name, as the stem's modules are, so a
        module swapped after construction (SyncBN -> BN fallback, conv+BN folding) is the one that runs."""
        return [None if name is None else getattr(self, name) for name in self.exit_pool_names]

    def _make_stem(self, act_cfg: dict | None) -> None:
        layers, c, plan = self.layer_factory, self.stem_channels, self.temporal
        t_kernel, t_stride, pool_t_stride, pool_t_kernel, mid = (1, 1, 1, 1, None) if plan is None else \
            (plan.stem_kernel, plan.stem_stride, plan.stem_pool_stride, plan.stem_pool_kernel, plan.stem_mid_channels)
        if self.deep_stem:
            self.stem = nn.Sequential(
                layers.conv(self.in_channels, c // 2, 3, self.stem_stride, temporal_kernel=t_kernel,
                            temporal_stride=t_stride),
                layers.norm(c // 2), build_activation(act_cfg, c // 2),
                layers.conv(c // 2, c // 2, 3), layers.norm(c // 2), build_activation(act_cfg, c // 2),
                layers.conv(c // 2, c, 3), layers.norm(c), build_activation(act_cfg, c))
            self.stem_names = ('stem',)
        else:
            self.conv1 = layers.conv(self.in_channels, c, 3 if self.small_stem else 7, self.stem_stride,
                                     temporal_kernel=t_kernel, temporal_stride=t_stride, mid=mid)
            self.bn1 = layers.norm(c)
            self.add_module(activation_name(act_cfg), build_activation(act_cfg, c))  # relu, or insightface's prelu
            self.stem_names = ('conv1', 'bn1', activation_name(act_cfg))
        self.maxpool = nn.Identity() if self.stem_pool_stride is None else \
            layers.max_pool(3, self.stem_pool_stride, temporal_stride=pool_t_stride, temporal_kernel=pool_t_kernel,
                            padding=self.stem_pool_padding)

    @property
    def stem_modules(self) -> list[nn.Module]:
        """The stem's modules in forward order (without the max-pool)."""
        return [getattr(self, name) for name in self.stem_names]

    def stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.stem_modules:
            x = module(x)
        return x

    def stages(self) -> list[ResStage]:
        return [getattr(self, name) for name in self.stage_names]

    def all_specs(self) -> tuple[FeatureSpec, ...]:
        """Specs of every selectable output ('stem' and each stage), read off the built modules."""
        spatial, temporal, s_ops, ops = _strides_of(nn.Sequential(*self.stem_modules))
        specs = [self._spec('stem', self.stem_channels, spatial, temporal, s_ops, ops)]
        s, t, more_s, more = _strides_of(self.maxpool)
        spatial, temporal, s_ops, ops = spatial * s, temporal * t, s_ops + more_s, ops + more
        for name, stage, pool in zip(self.stage_names, self.stages(), self.exit_pools):
            more_s, more = (), ()
            if stage.temporal_stride > 1:  # a strided conv: ceil(T / stride), as a kernel-1 op in floor mode
                more += ((1, stage.temporal_stride, 0, False),)
            if stage.stride > 1:
                more_s += ((1, stage.stride, 0, False),)
            s, t, pool_s, pool_t = _strides_of(pool) if pool is not None else (1, 1, (), ())
            more_s, more = more_s + pool_s, more + pool_t
            spatial, temporal = spatial * s * stage.stride, temporal * t * stage.temporal_stride
            s_ops, ops = s_ops + more_s, ops + more
            specs.append(self._spec(name, stage.out_channels, spatial, temporal, s_ops, ops))
        return tuple(specs)

    @staticmethod
    def _spec(name: str, channels: int, spatial: int, temporal: int, spatial_ops: Ops, temporal_ops: Ops
              ) -> FeatureSpec:
        """The spec, with the spatial ops only where one of them does not round up (else ceil(size / stride))."""
        exact = () if all(rounds_up(op) for op in spatial_ops) else spatial_ops
        return FeatureSpec(name, channels, spatial, temporal, temporal_ops, exact)

    @property
    def feature_specs(self) -> tuple[FeatureSpec, ...]:
        """One FeatureSpec per output of forward, in the same order."""
        selected = {'stem' if i == 'stem' else self.stage_names[i] for i in self.out_indices}
        return tuple(spec for spec in self.all_specs() if spec.name in selected)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if any(self.fused_channels):
            raise RuntimeError(f'{type(self).__name__} takes channels from another pathway before its stages '
                               f'(fused_channels={self.fused_channels}): run it through its two-pathway backbone '
                               '(ResNet3dSlowFast), not on its own')
        check_input(self, x)
        try:
            return self._forward_stages(x)
        except RuntimeError as err:  # torch says 'Output size is too small' at some pool, not which input size
            problem = too_small(type(self).__name__, self.all_specs(), tuple(x.shape[2:]))
            if problem is None:
                raise
            raise ValueError(problem) from err

    def _forward_stages(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stem_forward(x)
        outs = [x] if 'stem' in self.out_indices else []
        x = self.maxpool(x)
        for i, (stage, pool) in enumerate(zip(self.stages(), self.exit_pools)):
            x = stage(x)
            x = x if pool is None else pool(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def reset_parameters(self) -> None:
        """He init for convs, unit norms; zero_init_residual zeroes each block's last norm weight."""
        for m in self.modules():
            if isinstance(m, nn.modules.conv._ConvNd):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        self._init_blocks(self.zero_init_residual)

    def _init_blocks(self, zero_residual: bool) -> None:
        """The parts' own init, which mmcv's modules re-apply after any init_cfg (their init_weights runs after the
        parent's): deformable offsets at zero, the addons' init; and with ``zero_residual`` each block's last norm
        weight at zero."""
        for m in self.modules():
            if hasattr(m, 'conv_offset'):  # zero offsets: v1 starts as a plain conv, v2 as half of one (mmcv)
                nn.init.zeros_(m.conv_offset.weight)
                nn.init.zeros_(m.conv_offset.bias)
            if zero_residual and hasattr(m, 'last_norm') and getattr(m.last_norm, 'weight', None) is not None:
                with torch.no_grad():
                    m.last_norm.weight.zero_()
            if isinstance(m, ResidualBlock):  # addons keep their own init (a non-local block starts as identity)
                for addon in m.addons():
                    if hasattr(addon, 'reset_parameters'):
                        addon.reset_parameters()

    def init_weights(self) -> None:
        """mmengine entry point: a 'Pretrained' init_cfg (a dict, or one entry of a list, after the list's others as
        mmengine orders them) loads through our converters with all its keys (strict, prefix, source); without
        one, mmengine's own init, which takes a dict or a list. Other initialisers are followed by the parts' own init
        (deformable offsets at zero, addons), as mmcv's modules re-initialise themselves after their parent's list;
        zero_init_residual is then not applied, as in mmdet, where a given init_cfg replaces the default one."""
        from mmengine.model.weight_init import initialize

        from ..weights.init_cfg import load_pretrained_cfg, split_init_cfg
        pretrained, others = split_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()
        elif others:
            initialize(self, others)
        if others:  # a Kaiming list gave the deformable offsets random weights; mmcv's DCN zeroes them again after it.
            self._init_blocks(zero_residual=False)  # as mmdet, a given init_cfg decides the norms: no zeroing
        if pretrained is not None:
            load_pretrained_cfg(self, pretrained)
        self._is_init = True

    def frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return self.stem_modules + self.stages()[:self.frozen_stages]

    def _freeze_stages(self) -> None:
        for module in self.frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'ResNet':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if is_batch_norm(m):
                    m.eval()
        if mode and self.partial_bn:  # SyncBN (and mmengine's CPU stand-in for it) counts: it is no BatchNorm2d
            for m in [m for m in self.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)][1:]:
                m.eval()
                m.requires_grad_(False)
        return self

    def describe(self) -> str:
        """Per-stage table: trainable/total params, norm mode, output channels and stride."""
        return describe_backbone(self)


@MODELS.register_module()
class ResNetV1c(ResNet):
    """ResNet-C: the 7x7 stem replaced by three 3x3 convs (Bag of Tricks, He et al., 2019)."""

    fixed = dict(deep_stem=True, avg_down=False)

    def __init__(self, **kwargs):
        super().__init__(**fixed_variant(type(self).__name__, self.fixed, kwargs))


@MODELS.register_module()
class ResNetV1d(ResNet):
    """ResNet-D: deep stem plus average-pool downsampling in the shortcut."""

    fixed = dict(deep_stem=True, avg_down=True)

    def __init__(self, **kwargs):
        super().__init__(**fixed_variant(type(self).__name__, self.fixed, kwargs))


def fixed_variant(variant: str, fixed: dict, kwargs: dict) -> dict:
    """``kwargs`` with a variant's fixed flags; ValueError naming the variant when one is given otherwise (Python's
    'got multiple values for keyword argument' named neither)."""
    other = {key: kwargs[key] for key in fixed if key in kwargs and kwargs[key] != fixed[key]}
    if other:
        raise ValueError(f"{variant} fixes {fixed}; got {other}: use type='ResNet' with the flags you want")
    return {**kwargs, **fixed}


@MODELS.register_module()
class ResNeXt(ResNet):
    """ResNeXt (Xie et al., 2017): grouped 3x3 convs of ``groups`` x ``base_width`` channels in the first stage.

    Only bottleneck depths (50, 101, 152). groups=1 gives the plain ResNet, as in mmdet.
    """

    arch_settings = {d: s for d, s in ARCH_SETTINGS.items() if s[0] is Bottleneck}

    def __init__(self, groups: int = 1, base_width: int = 4, **kwargs):
        base_channels = kwargs.get('base_channels', 64)
        super().__init__(groups=groups, base_width=base_width if groups > 1 else base_channels, **kwargs)
