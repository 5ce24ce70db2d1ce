"""mmaction2's ``ResNet3dCSN``: channel-separated 3D ResNets (Tran et al., 2019, "Video Classification with
Channel-Separated Convolutional Networks"), as ResNet3d with CSN's defaults and the core's channel-separated
bottleneck, so its configs name the type they name and its ir-CSN / ip-CSN checkpoints load.

'ir' (interaction-reduced) makes every bottleneck's 3x3x3 conv depthwise; 'ip' (interaction-preserved) puts a 1x1x1
conv + norm before it. mmaction2 keeps both in a ``conv2`` Sequential (``conv2.0`` / ``conv2.1``); the loader maps
those onto ``conv2_interaction`` / ``conv2`` (``weights.align``).
"""
from __future__ import annotations

from typing import Sequence

from ..layers import is_batch_norm
from ..registry import MODELS
from .blocks import CHANNEL_SEPARATED
from .resnet3d import ResNet3d
from .validation import check_choice


@MODELS.register_module()
class ResNet3dCSN(ResNet3d):
    """ResNet3d with mmaction2's CSN defaults: ``temporal_strides=(1, 2, 2, 2)``, ``conv1_kernel=(3, 7, 7)``,
    ``inflate_style='3x3x3'``, BN3d with eps 1e-3; every other ResNet3d argument as there.

    Args (besides ResNet3d's):
        depth: 50, 101 or 152 (bottleneck depths only, as mmaction2).
        bottleneck_mode: 'ir' (depthwise 3x3x3, mmaction2's default) or 'ip' (1x1x1 conv, then depthwise 3x3x3).
        bn_frozen: with ``norm_eval=True``, also stop the batch norms' scale and shift from training (mmaction2's
            "bnfrozen" configs).
    """

    def __init__(self, depth: int, pretrained: str | None = None, temporal_strides: Sequence[int] = (1, 2, 2, 2),
                 conv1_kernel: Sequence[int] = (3, 7, 7), conv1_stride_t: int = 1, pool1_stride_t: int = 1,
                 norm_cfg: dict | None = None, inflate_style: str = '3x3x3', bottleneck_mode: str = 'ir',
                 bn_frozen: bool = False, **kwargs):
        check_choice('depth', depth, (50, 101, 152))
        check_choice('bottleneck_mode', bottleneck_mode, CHANNEL_SEPARATED)
        if bn_frozen and not kwargs.get('norm_eval', False):
            raise ValueError('ResNet3dCSN: bn_frozen=True needs norm_eval=True (frozen scale and shift with batch '
                             'statistics that keep changing is not what mmaction2 builds)')
        super().__init__(depth, pretrained=pretrained, temporal_strides=temporal_strides, conv1_kernel=conv1_kernel,
                         conv1_stride_t=conv1_stride_t, pool1_stride_t=pool1_stride_t,
                         norm_cfg=norm_cfg or dict(type='BN3d', requires_grad=True, eps=1e-3),
                         inflate_style=inflate_style, channel_separated=bottleneck_mode, **kwargs)
        self.bottleneck_mode, self.bn_frozen = bottleneck_mode, bn_frozen
        if bn_frozen:
            for module in self.modules():
                if is_batch_norm(module):
                    module.requires_grad_(False)
