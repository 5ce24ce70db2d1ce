"""mmaction2's ``ResNet3dSlowOnly``: ResNet3d with SlowOnly's defaults, so its configs name the type they name.

SlowOnly is the slow pathway of SlowFast without the fast one: a 1x7x7 stem without temporal stride, temporal
kernels only in stages 3-4, no pool2. mmaction2 builds it on its SlowFast pathway class, whose lateral-connection
arguments do nothing when ``lateral=False`` (the only setting SlowOnly allows); they are accepted so that its
configs carry over. Its checkpoints have ResNet3d's keys.
"""
from __future__ import annotations

from typing import Sequence

from ..registry import MODELS
from .resnet3d import ResNet3d

# ResNet3dPathway's lateral arguments and their defaults: inert without laterals.
PATHWAY_DEFAULTS = dict(lateral_norm=False, speed_ratio=8, channel_ratio=8, fusion_kernel=5, lateral_infl=2,
                        lateral_activate=(1, 1, 1, 1), lateral_inv=False)


@MODELS.register_module()
class ResNet3dSlowOnly(ResNet3d):
    """ResNet3d with mmaction2's SlowOnly defaults: ``conv1_kernel=(1, 7, 7)``, ``conv1_stride_t=1``,
    ``pool1_stride_t=1``, ``inflate=(0, 0, 1, 1)``, ``with_pool2=False``; every other ResNet3d argument as there.

    Args (besides ResNet3d's):
        lateral: must be False (SlowOnly has no fast pathway to connect; SlowFast is ``ResNet3dSlowFast``).
        lateral_norm, speed_ratio, channel_ratio, fusion_kernel, lateral_infl, lateral_activate, lateral_inv:
            mmaction2's pathway arguments, accepted because they change nothing without laterals.
    """

    def __init__(self, depth: int = 50, conv1_kernel: Sequence[int] = (1, 7, 7), conv1_stride_t: int = 1,
                 pool1_stride_t: int = 1, inflate: Sequence[int | Sequence[int]] = (0, 0, 1, 1),
                 with_pool2: bool = False, lateral: bool = False, **kwargs):
        if lateral:
            raise ValueError('ResNet3dSlowOnly: lateral must be False (SlowOnly has no fast pathway; for lateral '
                             "connections use dict(type='ResNet3dSlowFast', slow_pathway=..., fast_pathway=...))")
        for name in PATHWAY_DEFAULTS:
            kwargs.pop(name, None)
        super().__init__(depth, conv1_kernel=conv1_kernel, conv1_stride_t=conv1_stride_t,
                         pool1_stride_t=pool1_stride_t, inflate=inflate, with_pool2=with_pool2, **kwargs)
