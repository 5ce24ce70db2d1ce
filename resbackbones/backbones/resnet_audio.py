"""mmaction2's ``ResNetAudio`` (Xiao et al., 2020): a 2D bottleneck ResNet over log-mel spectrograms whose 3x3 convs
are split into a time and a frequency conv (``layers/conv_audio.py``).

On the core it is the 2D ResNet with a stem of one factorised 9x9 conv (summed branches, stride 1, no max-pool), 32
base channels, and ``AudioBottleneck`` blocks: in the stages ``factorize`` marks (the first two by default) the middle
conv is ConvAudio, whose concatenated branches double the last 1x1 conv's input; elsewhere it is a plain 3x3 conv
followed directly by the last 1x1 conv, with no norm or activation between them, exactly as mmaction2 builds it.
Module names follow mmaction2 (``conv1.conv_1``, ``layerN.i.conv2.conv_1`` ...), so its checkpoints load.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..layers import ConvAudio, LayerFactory
from ..registry import MODELS
from .blocks import ResidualBlock
from .resnet import ResNet
from .resnet3d import block_flags
from .validation import check_choice, per_stage


class AudioBottleneck(ResidualBlock):
    """1x1 conv + norm + ReLU to ``planes``; ConvAudio (``factorize``) or a bare 3x3 conv, strided; 1x1 conv + norm
    to planes * 4. Args as Bottleneck's; ``factorize``: the middle conv is ConvAudio ('concat')."""

    expansion = 4
    num_convs = 3

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, layers: LayerFactory = LayerFactory(), drop_path: float = 0.0,
                 with_cp: bool = False, temporal_stride: int = 1, temporal_kernels: Sequence[int] | None = None,
                 factorize: bool = True):
        super().__init__(in_channels, planes * self.expansion, stride, temporal_stride, downsample, drop_path,
                         with_cp)
        if layers.dims != 2 or temporal_kernels is not None:
            raise ValueError('AudioBottleneck is a 2D block (spectrograms); it takes no temporal settings')
        if factorize and dilation != 1:
            raise ValueError(f'AudioBottleneck: a factorised block has no dilation (mmaction2\'s ConvAudio ignores '
                             f'it); got dilation={dilation}')
        self.conv1 = layers.conv(in_channels, planes, 1)
        self.bn1 = layers.norm(planes)
        self.conv2 = ConvAudio(planes, planes, 3, 'concat', stride, layers.norm_cfg) if factorize else \
            layers.conv(planes, planes, 3, stride, dilation)
        self.conv3 = layers.conv(self.conv2.out_channels, self.out_channels, 1)
        self.bn3 = layers.norm(self.out_channels)

    @classmethod
    def variant_kwargs(cls, planes, style, groups, base_width, base_channels, dcn, channel_separated=None):
        if style != 'pytorch' or groups != 1 or base_width != base_channels or dcn is not None \
                or channel_separated is not None:
            raise ValueError('AudioBottleneck has only the plain pytorch-style form (stride on the middle conv, no '
                             'groups, width, dcn or channel separation)')
        return {}

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn3(self.conv3(self.conv2(self.relu(self.bn1(self.conv1(x))))))


AUDIO_ARCH = {50: (AudioBottleneck, (3, 4, 6, 3)), 101: (AudioBottleneck, (3, 4, 23, 3)),
              152: (AudioBottleneck, (3, 8, 36, 3))}


@MODELS.register_module()
class ResNetAudio(ResNet):
    """(N, C, T, F) spectrograms -> a tuple of features (the last stage's by default, as mmaction2 returns).

    Args (mmaction2's): depth: 50, 101 or 152. pretrained: a checkpoint to load (mmaction2's or ours).
        in_channels: 1 (one log-mel spectrogram). num_stages, base_channels (32), strides (1, 2, 2, 2), dilations,
        frozen_stages, norm_eval (False), with_cp, zero_init_residual (True): as the core's.
        conv1_kernel: the stem's factorised kernel (9). conv1_stride: its stride; only 1 (mmaction2's default).
        factorize: per stage, 1/0 for every block or one flag per block: ConvAudio middle convs ((1, 1, 0, 0)).
        conv_cfg: only plain convs. norm_cfg: the core's (mmcv's 'BN2d' is 'BN'). act_cfg: only ReLU.
        out_indices: which stages to return; default the last.
    """

    arch_settings = AUDIO_ARCH

    def __init__(self, depth: int, pretrained: str | None = None, in_channels: int = 1, num_stages: int = 4,
                 base_channels: int = 32, strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1), conv1_kernel: int = 9, conv1_stride: int = 1,
                 frozen_stages: int = -1, factorize: int | Sequence = (1, 1, 0, 0), norm_eval: bool = False,
                 with_cp: bool = False, conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, zero_init_residual: bool = True,
                 out_indices: Sequence[int] | None = None, init_cfg: dict | None = None):
        check_choice('depth', depth, tuple(AUDIO_ARCH))
        check_choice('num_stages', num_stages, (1, 2, 3, 4))
        if conv1_stride != 1:
            raise ValueError(f'ResNetAudio: conv1_stride must be 1 (a strided factorised stem is not supported); '
                             f'got {conv1_stride!r}')
        if conv_cfg not in (None, dict(type='Conv'), dict(type='Conv2d')):
            raise ValueError(f'ResNetAudio: conv_cfg must be plain convs (mmaction2\'s Conv); got {conv_cfg!r}')
        if act_cfg not in (None, dict(type='ReLU'), dict(type='ReLU', inplace=True)):
            raise ValueError(f'ResNetAudio: act_cfg must be ReLU (mmaction2\'s); got {act_cfg!r}')
        if norm_cfg is not None and norm_cfg.get('type') == 'BN2d':
            norm_cfg = dict(norm_cfg, type='BN')
        blocks = AUDIO_ARCH[depth][1][:num_stages]
        flags = per_stage('factorize', factorize, (1, 1, 0, 0), num_stages)
        options = [[dict(factorize=f) for f in block_flags(f'factorize[{i}]', flag, n)]
                   for i, (flag, n) in enumerate(zip(flags, blocks))]
        self.conv1_kernel = conv1_kernel  # read by _make_stem during the core's construction
        out_indices = (num_stages - 1,) if out_indices is None else tuple(out_indices)
        built = max(i for i in out_indices if i != 'stem') + 1 if any(i != 'stem' for i in out_indices) else 0
        super().__init__(depth, in_channels=in_channels, base_channels=base_channels, num_stages=num_stages,
                         strides=strides, dilations=dilations, out_indices=out_indices, stem_pool_stride=None,
                         frozen_stages=frozen_stages, norm_cfg=norm_cfg, norm_eval=norm_eval, with_cp=with_cp,
                         zero_init_residual=zero_init_residual, block_options=options[:built],
                         pretrained=pretrained, init_cfg=init_cfg)

    def _make_stem(self, act_cfg: dict | None) -> None:
        """A factorised conv whose time and frequency branches are summed, then norm and ReLU; no max-pool."""
        if not isinstance(self.conv1_kernel, int) or self.conv1_kernel % 2 == 0:
            raise ValueError(f'ResNetAudio: conv1_kernel must be an odd integer; got {self.conv1_kernel!r}')
        self.conv1 = ConvAudio(self.in_channels, self.stem_channels, self.conv1_kernel, 'sum', 1,
                               self.layer_factory.norm_cfg)
        self.bn1 = self.layer_factory.norm(self.stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.stem_names = ('conv1', 'bn1', 'relu')
        self.maxpool = nn.Identity()
