"""mmaction2's ``TANet`` (Temporal Adaptive Network, Liu et al. 2021): a 2D ResNet over the frames of clips whose
every bottleneck gets a temporal adaptive module (``layers/temporal_adaptive.py``) after its first conv.

On the core, that is ResNetTSM without the shift and with one 'inner' BlockAddon per block: the network is the
plain 2D ResNet plus the modules, so a 2D ImageNet checkpoint loads into it as it is (the modules keep their
initialisation) and mmaction2's TANet checkpoints load key for key (its ``TABlock`` wrapper's ``.block`` dropped).
"""
from __future__ import annotations

from ..layers.temporal_adaptive import TAM
from ..registry import MODELS
from .addons import BlockAddon
from .resnet_tsm import ResNetTSM

TSM_ONLY = ('is_shift', 'shift_div', 'shift_place', 'temporal_pool', 'every_block')


@MODELS.register_module()
class TANet(ResNetTSM):
    """(N * num_segments, C, H, W) frames of N clips -> per-frame features, as ResNetTSM.

    Args (mmaction2's): depth: 50, 101 or 152 (TA-blocks are bottlenecks, as in mmaction2). num_segments: frames
    per clip, at least 3. tam_cfg: the TAM's arguments (alpha, beta, adaptive_kernel_size, ...); None: its
    defaults. Every other argument is mmaction2's ResNet's (out_indices default (3,), norm_eval default False,
    non_local, partial_bn ...); TSM's shift arguments are refused.
    """

    def __init__(self, depth: int, num_segments: int, tam_cfg: dict | None = None, **kwargs):
        given = sorted(set(TSM_ONLY) & set(kwargs))
        if given:
            raise ValueError(f'TANet does not take {given} (TSM arguments; mmaction2\'s TANet has no shift)')
        if depth not in (50, 101, 152):
            raise ValueError(f'TANet: depth must be 50, 101 or 152 (TA-blocks are bottlenecks, as in mmaction2); '
                             f'got {depth!r}')
        if not isinstance(num_segments, int) or num_segments < 3:
            raise ValueError(f'TANet: num_segments must be an integer >= 3 (mmaction2 asserts it); got '
                             f'{num_segments!r}')
        tam = BlockAddon('tam', 'inner', TAM, dict(num_segments=num_segments, **(tam_cfg or {})))
        super().__init__(depth, num_segments=num_segments, is_shift=False, every_block=(tam,), **kwargs)
