"""R(2+1)D (Tran et al., 2018): ResNet3d whose t x k x k convs are factorised into spatial and temporal convs.

An argument translator over ResNet3d: it fixes ``conv_cfg`` to the factorising layer factory
(``layers.conv2plus1d``) and mmaction2's R(2+1)D defaults, and never adds pool2 (mmaction2's R(2+1)D has none).
torchvision's r2plus1d_18 is ``ResNet2Plus1d(depth=18, with_pool1=False, stem_mid_channels=45,
mid_channels_from='block')``
(backbones/named_video.py); its checkpoints load through ``load_pretrained`` (weights/torchvision_video.py).
"""
from __future__ import annotations

from typing import Sequence

from ..layers.conv2plus1d import MID_FROM
from ..registry import MODELS
from .resnet3d import ResNet3d
from .validation import check_choice


@MODELS.register_module()
class ResNet2Plus1d(ResNet3d):
    """R(2+1)D for (N, C, T, H, W) clips; ResNet3d's arguments with mmaction2's R(2+1)D defaults.

    Defaults (mmaction2's r2plus1d_r34 config, so its checkpoints load): ``conv1_kernel=(3, 7, 7)``,
    ``conv1_stride_t=1``, ``pool1_stride_t=1``, every block inflated (temporal kernel 3 on both convs of a basic
    block), ``temporal_strides=(1, 2, 2, 2)``, ``zero_init_residual=False``, no pool2. Besides:
        mid_channels_from: 'mmaction2' (default: its Conv2plus1d, every conv factorised with its own middle width
            (27 in out) // (9 in + 3 out), the 1 x 1 x 1 shortcut convs too: R(2+1)D-34 has 63.76 M parameters as
            mmaction2's metafile says), 'block' (torchvision's rule: both convs of a block take the middle width
            (9 t in planes) // (9 in + t planes) of the block's input and planes; shortcuts stay plain) or 'conv'
            (each conv from its own in/out, shortcuts plain: the widths a 2D checkpoint can be factorised into).
        stem_mid_channels: middle width of the (2+1)D stem (torchvision: 45); None: the formula (83 for 64 channels).
        with_pool1: the stem's max-pool (mmaction2: True; torchvision's video ResNets have none).
        conv_cfg: None or mmaction2's dict(type='Conv2plus1d'); nothing else.
        pretrained2d: accepted for mmaction2's configs (which set False); a 2D checkpoint is factorised on load
            whenever it is one (weights/factorise.py).
    """

    def __init__(self, depth: int, conv1_kernel: Sequence[int] = (3, 7, 7),
                 inflate: Sequence[int | Sequence[int]] = (1, 1, 1, 1),
                 temporal_strides: Sequence[int] = (1, 2, 2, 2), zero_init_residual: bool = False,
                 mid_channels_from: str = 'mmaction2', conv_cfg: dict | None = None, pretrained2d: bool = False,
                 **kwargs):
        check_choice('mid_channels_from', mid_channels_from, MID_FROM)
        if 'with_pool2' in kwargs:
            raise ValueError('ResNet2Plus1d does not take with_pool2: R(2+1)D has no pool2 (as mmaction2)')
        if conv_cfg is not None and (conv_cfg.get('type') != 'Conv2plus1d' or set(conv_cfg) != {'type'}):
            raise ValueError(f"ResNet2Plus1d: conv_cfg must be None or dict(type='Conv2plus1d'); got {conv_cfg}")
        super().__init__(depth, conv1_kernel=conv1_kernel, inflate=inflate, temporal_strides=temporal_strides,
                         zero_init_residual=zero_init_residual, with_pool2=False, pretrained2d=pretrained2d,
                         conv_cfg=dict(type='Conv2plus1d', mid_channels_from=mid_channels_from), **kwargs)
