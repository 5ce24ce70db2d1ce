"""mmaction2's ``C2D`` (the 2D baseline of "Non-local Neural Networks", Wang et al. 2018): a 2D ResNet applied to
every frame, with a temporal max-pool after the first stage, as the core's 3D ResNet whose kernels are all 1 in time.

mmaction2 folds time into the batch around its 2D layers; a (1, k, k) 3D conv over (N, C, T, H, W) computes the same,
and batch norm over N x T frames equals a 3D batch norm over (N, T, H, W). Its stem max-pool is unpadded, so sizes
round down there (the feature specs record it). Its checkpoints and ImageNet ResNets load by inflating 2D kernels to
a temporal size of 1, which leaves them unchanged.
"""
from __future__ import annotations

from typing import Sequence

from ..registry import MODELS
from .resnet3d import ResNet3d

PER_FRAME_CONVS = (None, 'Conv', 'Conv2d')


@MODELS.register_module()
class C2D(ResNet3d):
    """(N, C, T, H, W) clips -> per-frame 2D ResNet, T halved after the first stage -> (N, C_i, T_i, H_i, W_i).

    Takes mmaction2's ResNet arguments (its C2D subclasses that ResNet): depth, pretrained, in_channels, num_stages,
    out_indices (default (3,)), strides (spatial, per stage), dilations, style, frozen_stages, norm_eval (default
    False), with_cp, plus ResNet3d's others. conv_cfg / norm_cfg name 2D layers there (Conv, BN2d): their 3D
    equivalents are built. torchvision_pretrain is accepted (the checkpoint's format is detected).
    partial_bn is refused: its rule (every BatchNorm2d but the first) has no counterpart on 3D norms here.
    """

    def __init__(self, depth: int, pretrained: str | None = None, torchvision_pretrain: bool = True,
                 strides: Sequence[int] = (1, 2, 2, 2), conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 partial_bn: bool = False, **kwargs):
        if partial_bn:
            raise ValueError('C2D: partial_bn is not supported (mmaction2 freezes BatchNorm2d layers; C2D is built '
                             'with 3D ones here); freeze norms with norm_eval or frozen_stages')
        if (conv_cfg or {}).get('type') not in PER_FRAME_CONVS:
            raise ValueError(f"C2D: conv_cfg must name a plain 2D conv (dict(type='Conv')); got {conv_cfg!r}")
        norm_cfg = dict(norm_cfg or dict(type='BN3d', requires_grad=True))
        if norm_cfg.get('type') in ('BN', 'BN2d'):
            norm_cfg['type'] = 'BN3d'
        super().__init__(depth, pretrained=pretrained, spatial_strides=strides, conv1_kernel=(1, 7, 7),
                         conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 0, 0), with_pool2=True,
                         stem_pool_padding=0, norm_cfg=norm_cfg, **kwargs)
