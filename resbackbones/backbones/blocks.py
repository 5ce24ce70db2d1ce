"""Residual blocks y = act(F(x) + shortcut(x)), built through a LayerFactory so 2D and video share them.

Every block keeps one small contract (``ResidualBlock``): its in/out channels, spatial and temporal stride, the
norm that ``zero_init_residual`` zeroes, and the activation after the residual sum as a class attribute. What
varies between blocks (bottleneck width, grouped convs, caffe/pytorch stride placement, deformable convs) is asked
of the block class by ``variant_kwargs``, so each block takes only the arguments it honours. Modules that some
networks add to chosen blocks (a non-local block, a temporal shift) come as BlockAddons (``add_addons``).
Module names follow torchvision (conv1/bn1, conv2/bn2, conv3/bn3, downsample; insightface's for IBasicBlock), so
torchvision, mmdet, mmpretrain and insightface checkpoints map onto them key for key.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.utils.checkpoint as cp
from torch import nn

from ..layers import DropPath, LayerFactory, running_stats_kept
from .addons import PLACES, BlockAddon


CHANNEL_SEPARATED = ('ir', 'ip')


class ResidualBlock(nn.Module):
    """The block contract and the shared forward: residual branch, stochastic depth, activation checkpointing.

    Subclasses build the branch F in ``__init__``, implement ``residual`` and name their ``last_norm``.

    Args:
        in_channels / out_channels: of the block. stride / temporal_stride: its spatial and temporal reduction.
        downsample: shortcut projection, or None for identity. drop_path: stochastic-depth rate.
        with_cp: recompute activations in backward to save memory.
    """

    expansion = 1  # out_channels = planes * expansion
    num_convs = 2  # convs in the branch: the length of a temporal kernel plan
    act_after_sum: type[nn.Module] = nn.ReLU  # nn.Identity for blocks with no activation after the sum
    # The branch's inner channels, as (producing conv, per-channel modules, consuming conv) module names: the
    # channels ``width`` sets, which structured pruning may remove without changing the block's output.
    inner_layers: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def __init__(self, in_channels: int, out_channels: int, stride: int, temporal_stride: int,
                 downsample: nn.Module | None, drop_path: float, with_cp: bool):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.temporal_stride = stride, temporal_stride
        self.downsample = downsample
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.relu = nn.ReLU(inplace=True) if self.act_after_sum is nn.ReLU else self.act_after_sum()
        self.with_cp = with_cp
        self.addon_names: dict[str, list[str]] = {place: [] for place in PLACES}

    def add_addons(self, addons: Sequence[BlockAddon]) -> None:
        """Build ``addons`` into this block under their names; they run where their ``place`` says.

        Called by the stage once the block's own layers exist, so an addon can never replace one of them.
        """
        for addon in addons:
            if hasattr(self, addon.name):
                raise ValueError(f'BlockAddon name {addon.name!r} is already a member of {type(self).__name__}')
            self.add_module(addon.name, addon.build(self.in_channels, self.out_channels, self.inner_channels))
            self.addon_names[addon.place].append(addon.name)

    @property
    def inner_channels(self) -> int:
        """Channels after the branch's first conv (an 'inner' addon's), read off the norm that follows it."""
        norm = getattr(self, self.inner_layers[0][1][0])
        return getattr(norm, 'num_features', None) or norm.num_channels

    def addons(self) -> list[nn.Module]:
        return [getattr(self, name) for names in self.addon_names.values() for name in names]

    def _run_addons(self, place: str, x: torch.Tensor) -> torch.Tensor:
        for name in self.addon_names[place]:
            x = getattr(self, name)(x)
        return x

    @classmethod
    def variant_kwargs(cls, planes: int, style: str, groups: int, base_width: int, base_channels: int,
                       dcn: dict | None, channel_separated: str | None = None) -> dict:
        """The core's variant settings as this block's keyword arguments; ValueError for ones it cannot honour."""
        raise NotImplementedError

    @property
    def last_norm(self) -> nn.Module:
        """The norm at the end of the branch, zeroed by ``zero_init_residual`` so the block starts as identity."""
        raise NotImplementedError

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._run_addons('input', x)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.drop_path(self.residual(self._run_addons('branch', x)))
        out += identity  # in place, as torchvision: the out-of-place add cost ~2% of a ResNet-50 forward on CPU
        return out

    def _checkpointed(self, x: torch.Tensor) -> torch.Tensor:
        """``_forward`` under gradient checkpointing; its recomputation in backward leaves the norms' running
        statistics alone (mmdet's with_cp updated them twice per step: a momentum of 0.19 for 0.1)."""
        calls = []

        def run(inputs: torch.Tensor) -> torch.Tensor:
            if calls:
                with running_stats_kept(self):
                    return self._forward(inputs)
            calls.append(True)
            return self._forward(inputs)
        return cp.checkpoint(run, x, use_reentrant=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad and self.training:
            out = self._checkpointed(x)
        else:
            out = self._forward(x)
        return self._run_addons('output', self.relu(out))


def _plain_only(block: str, groups: int, base_width: int, base_channels: int, channel_separated: str | None) -> None:
    if groups != 1 or base_width != base_channels:
        raise ValueError(f'{block} supports only groups=1 and base_width=base_channels (got groups={groups}, '
                         f'base_width={base_width}); use depth >= 50 for ResNeXt/wide')
    if channel_separated is not None:
        raise ValueError(f'{block} has no channel-separated form (channel_separated={channel_separated!r}); '
                         f'CSN needs depth >= 50, as in mmaction2')


class BasicBlock(ResidualBlock):
    """Two 3x3 convs (ResNet-18/34). ``dcn`` replaces the second conv by a deformable one.

    Args (besides the contract's): planes: output width of the block. dilation: of conv1, and of conv2 too with
        ``dilate_conv2`` (MedicalNet's and timm's block; mmdet's, mmseg's and mmaction2's dilate conv1 only, so
        their dilated ResNet-18/34 checkpoints compute what they were trained as).
        layers: builds convs and norms. temporal_kernels: temporal size of (conv1, conv2); None for 2D.
        width: the inner width, conv1's output (default planes; a pruned block has fewer).
    ``style`` has no effect on a basic block: both styles put the stride on its first 3x3 conv (as mmdet).
    """

    inner_layers = (('conv1', ('bn1',), 'conv2'),)

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), drop_path: float = 0.0,
                 with_cp: bool = False, temporal_stride: int = 1, temporal_kernels: Sequence[int] | None = None,
                 dcn: dict | None = None, width: int | None = None, dilate_conv2: bool = False):
        super().__init__(in_channels, planes, stride, temporal_stride, downsample, drop_path, with_cp)
        width = width or planes
        t1, t2 = temporal_kernels or (1, 1)
        dcn = active_dcn(dcn)  # ResNet-18/34 kept their deformable convs with fallback_on_stride=True
        self.conv1 = layers.conv(in_channels, width, 3, stride, dilation, temporal_kernel=t1,
                                 temporal_stride=temporal_stride, block_channels=(in_channels, planes))
        self.bn1 = layers.norm(width)
        self.conv2 = layers.conv(width, planes, 3, 1, dilation if dilate_conv2 else 1, temporal_kernel=t2,
                                 conv_cfg=dcn, block_channels=(in_channels, planes))
        self.bn2 = layers.norm(planes)

    @classmethod
    def variant_kwargs(cls, planes, style, groups, base_width, base_channels, dcn, channel_separated=None):
        _plain_only('BasicBlock', groups, base_width, base_channels, channel_separated)
        return dict(dcn=dcn)

    @property
    def last_norm(self) -> nn.Module:
        return self.bn2

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self._run_addons('inner', self.relu(self.bn1(self.conv1(x))))
        return self.bn2(self.conv2(out))


def active_dcn(dcn: dict | None) -> dict | None:
    """The deformable conv config a block's 3x3 conv uses: none when ``fallback_on_stride`` is set (mmdet: then
    no block has a deformable conv, strided or not; its test reads ``if not self.with_dcn or
    fallback_on_stride``)."""
    return None if dcn is not None and dcn.get('fallback_on_stride', False) else dcn


class Bottleneck(ResidualBlock):
    """1x1 reduce to ``width``, 3x3 (grouped for ResNeXt), 1x1 expand to planes * 4 (ResNet-50 and deeper).

    Args (besides BasicBlock's): style: 'pytorch' puts the stride on the 3x3 conv (torchvision, "ResNet v1.5"),
        'caffe' on the first 1x1 (the original paper). groups: of the 3x3 conv. width: the inner width (default
        planes); the core derives it as int(planes * base_width / base_channels) * groups, which gives plain,
        ResNeXt (groups=32, base_width=4) and wide (base_width=128) blocks from one formula.
        temporal_kernels has one entry per conv (3).
        channel_separated: CSN's factorisation of the 3x3 conv (Tran et al., 2019; mmaction2's ``bottleneck_mode``):
            'ir' makes it depthwise (groups = width); 'ip' also puts a 1x1 conv + norm (``conv2_interaction``,
            ``bn2_interaction``, no activation) before it, to keep the channel interaction. None: a plain conv.
    """

    expansion = 4
    num_convs = 3
    inner_layers = (('conv1', ('bn1',), 'conv2'), ('conv2', ('bn2',), 'conv3'))

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), drop_path: float = 0.0,
                 with_cp: bool = False, temporal_stride: int = 1, temporal_kernels: Sequence[int] | None = None,
                 dcn: dict | None = None, style: str = 'pytorch', groups: int = 1, width: int | None = None,
                 channel_separated: str | None = None):
        super().__init__(in_channels, planes * self.expansion, stride, temporal_stride, downsample, drop_path,
                         with_cp)
        width = width or planes
        if channel_separated is not None:
            if channel_separated not in CHANNEL_SEPARATED or groups != 1 or dcn is not None:
                raise ValueError(f"channel_separated must be one of {CHANNEL_SEPARATED} on a plain bottleneck "
                                 f"(groups=1, no dcn); got {channel_separated!r}, groups={groups}, dcn={dcn}")
            groups = width
        t1, t2, t3 = temporal_kernels or (1, 1, 1)
        conv1_stride, conv2_stride = (stride, 1) if style == 'caffe' else (1, stride)
        conv1_tstride, conv2_tstride = (temporal_stride, 1) if style == 'caffe' else (1, temporal_stride)
        dcn = active_dcn(dcn)
        self.conv1 = layers.conv(in_channels, width, 1, conv1_stride, temporal_kernel=t1,
                                 temporal_stride=conv1_tstride)
        self.bn1 = layers.norm(width)
        if channel_separated == 'ip':
            self.conv2_interaction = layers.conv(width, width, 1)
            self.bn2_interaction = layers.norm(width)
        self.conv2 = layers.conv(width, width, 3, conv2_stride, dilation, groups, temporal_kernel=t2,
                                 temporal_stride=conv2_tstride, conv_cfg=dcn, block_channels=(in_channels, width))
        self.bn2 = layers.norm(width)
        self.conv3 = layers.conv(width, self.out_channels, 1, temporal_kernel=t3)
        self.bn3 = layers.norm(self.out_channels)

    @classmethod
    def variant_kwargs(cls, planes, style, groups, base_width, base_channels, dcn, channel_separated=None):
        return dict(dcn=dcn, style=style, groups=groups, width=int(planes * base_width / base_channels) * groups,
                    **({} if channel_separated is None else {'channel_separated': channel_separated}))

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self._run_addons('inner', self.relu(self.bn1(self.conv1(x))))
        if hasattr(self, 'conv2_interaction'):
            out = self.bn2_interaction(self.conv2_interaction(out))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class IBasicBlock(ResidualBlock):
    """ArcFace's improved basic block (IResNet, insightface): BN -> 3x3 -> BN -> PReLU -> 3x3 (strided) -> BN, added
    to the shortcut with no activation after the sum. Arguments as BasicBlock's, without dcn; names follow
    insightface. ``width``: conv1's output (default planes)."""

    act_after_sum = nn.Identity
    inner_layers = (('conv1', ('bn2', 'prelu'), 'conv2'),)

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), drop_path: float = 0.0,
                 with_cp: bool = False, temporal_stride: int = 1, temporal_kernels: Sequence[int] | None = None,
                 width: int | None = None):
        super().__init__(in_channels, planes, stride, temporal_stride, downsample, drop_path, with_cp)
        width = width or planes
        t1, t2 = temporal_kernels or (1, 1)
        self.bn1 = layers.norm(in_channels)
        self.conv1 = layers.conv(in_channels, width, 3, 1, dilation, temporal_kernel=t1)
        self.bn2 = layers.norm(width)
        self.prelu = nn.PReLU(width)
        self.conv2 = layers.conv(width, planes, 3, stride, dilation, temporal_kernel=t2,
                                 temporal_stride=temporal_stride)
        self.bn3 = layers.norm(planes)

    @classmethod
    def variant_kwargs(cls, planes, style, groups, base_width, base_channels, dcn, channel_separated=None):
        _plain_only('IBasicBlock', groups, base_width, base_channels, channel_separated)
        if dcn is not None:
            raise ValueError(f'IBasicBlock has no deformable conv; got dcn={dcn}')
        return {}

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self._run_addons('inner', self.prelu(self.bn2(self.conv1(self.bn1(x)))))
        return self.bn3(self.conv2(out))
