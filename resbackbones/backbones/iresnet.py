"""Face ResNets (IResNet, the ArcFace backbones of insightface): the core's arguments for improved blocks, a PReLU stem.

An IResNet is the core's small stem (3x3 stride-1 conv, no max-pool) followed by PReLU, and four stages of
IBasicBlocks that all halve the resolution (a 112x112 face gives 7x7 at stride 16). Module names are insightface's
(``conv1``, ``bn1``, ``prelu``, ``layerN.i.{bn1,conv1,bn2,prelu,conv2,bn3,downsample}``), so the backbone part of its
checkpoints loads as it is; the embedding layers (``bn2``, ``fc``, ``features``) are a head, not the backbone.
"""
from __future__ import annotations

from typing import Sequence

from ..registry import MODELS
from .blocks import IBasicBlock
from .resnet import ResNet

IRESNET_SETTINGS = {
    18: (IBasicBlock, (2, 2, 2, 2)),
    34: (IBasicBlock, (3, 4, 6, 3)),
    50: (IBasicBlock, (3, 4, 14, 3)),
    100: (IBasicBlock, (3, 13, 30, 3)),
    200: (IBasicBlock, (6, 26, 60, 6)),
}


@MODELS.register_module()
class IResNet(ResNet):
    """IResNet-18/34/50/100/200 for aligned face crops (112x112); returns a tuple of stage outputs.

    Takes ResNet's arguments except the stem and shortcut kinds (fixed here) and ``style``; defaults differ where
    insightface's do: ``strides=(2, 2, 2, 2)``, ``out_indices=(3,)``, ``zero_init_residual=False``,
    ``norm_eval=False``.
    """

    arch_settings = IRESNET_SETTINGS

    def __init__(self, depth: int, out_indices: Sequence[int | str] = (3,), strides: Sequence[int] = (2, 2, 2, 2),
                 zero_init_residual: bool = False, norm_eval: bool = False, **kwargs):
        for name in ('deep_stem', 'small_stem', 'avg_down', 'style', 'dcn', 'stage_with_dcn', 'stem_act_cfg'):
            if name in kwargs:
                raise ValueError(f'IResNet does not take {name}: its stem and blocks are fixed by the architecture')
        super().__init__(depth, out_indices=out_indices, strides=strides, small_stem=True,
                         stem_act_cfg=dict(type='PReLU'), zero_init_residual=zero_init_residual,
                         norm_eval=norm_eval, **kwargs)
