"""mmaction2's ``ResNetTIN`` (Temporal Interlacing Network, Shao et al. 2020): TSM's backbone with a learned,
fractional temporal interlace in place of the fixed shift, in every block's residual branch.

Only the module the blocks get differs from ResNetTSM (``temporal_addon``); mmaction2 wraps each block's first conv
(``conv1.conv.net1`` the interlace, ``.net2`` the conv), which the loader aligns onto ``interlace`` and ``conv1``.
"""
from __future__ import annotations

from ..layers.temporal_interlace import TemporalInterlace
from ..registry import MODELS
from .addons import BlockAddon
from .resnet_tsm import ResNetTSM


@MODELS.register_module()
class ResNetTIN(ResNetTSM):
    """ResNetTSM's arguments (num_segments, shift_div: mmaction2's TIN configs use 4, non_local, ...) with
    ``is_tin`` (mmaction2's switch for the interlace) in place of ``is_shift``. Every block interlaces, ResNet-101
    included. temporal_pool and shift_place='block' are refused: mmaction2's TIN ignores them.
    """

    every_other_deep_block = False

    def __init__(self, depth: int, is_tin: bool = True, **kwargs):
        for name, inert in (('temporal_pool', False), ('shift_place', 'blockres'), ('is_shift', None)):
            if name in kwargs and kwargs[name] != inert:
                raise ValueError(f'ResNetTIN does not take {name}={kwargs[name]!r} (mmaction2 ignores it for TIN)'
                                 + ('; use is_tin' if name == 'is_shift' else ''))
            kwargs.pop(name, None)
        super().__init__(depth, is_shift=is_tin, **kwargs)

    @staticmethod
    def temporal_addon(place: str, num_segments: int, shift_div: int) -> BlockAddon:
        return BlockAddon('interlace', 'branch', TemporalInterlace,
                          dict(num_segments=num_segments, shift_div=shift_div))
