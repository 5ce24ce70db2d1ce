"""TSM (Lin et al., 2019): a 2D ResNet over the frames of clips whose blocks shift channels in time.

mmaction2's ResNetTSM arguments translated onto the one core: the temporal shift (and, optionally, mmaction2's
temporal pool before the second stage and non-local blocks) become BlockAddons of the 2D core, so the network is
the plain 2D ResNet plus parameter-free shifts, and a 2D ImageNet checkpoint loads into it as it is.
"""
from __future__ import annotations

from typing import Sequence

from ..layers.non_local import NonLocal3d
from ..layers.temporal_shift import TemporalPool, TemporalShift
from ..registry import MODELS
from .addons import BlockAddon
from .resnet import ARCH_SETTINGS, ResNet
from .resnet3d import block_flags
from .validation import check_choice, per_stage

SHIFT_PLACES = ('blockres', 'block')


@MODELS.register_module()
class ResNetTSM(ResNet):
    """ResNet for (N * num_segments, C, H, W) frames of N clips; returns a tuple of per-frame features.

    Takes mmaction2's ResNetTSM arguments, with ResNet's (depth, in_channels, base_channels, strides, ...):
        num_segments: frames per clip; the batch must hold whole clips.
        is_shift: shift channels in time (False gives TSN's plain 2D backbone).
        shift_div: 1/shift_div of the channels moves one frame back, another 1/shift_div one frame forward.
        shift_place: 'blockres' shifts the input of each block's residual branch (the shortcut keeps the unshifted
            frame: the paper's residual shift); 'block' shifts the block's input, shortcut included. With
            'blockres' and 23 or more blocks in the third stage (ResNet-101) every other block shifts, as in
            mmaction2.
        temporal_pool: max-pool neighbouring frames (3, stride 2) before the second stage; later stages then see
            num_segments // 2 frames per clip and the batch shrinks accordingly.
        non_local / non_local_cfg: as ResNet3d's: NonLocal3d blocks over each clip's frames after flagged blocks.
        act_cfg: only ReLU (mmaction2's ResNet). partial_bn: as ResNet's (mmaction2's TSN/TRN setting).
        pretrained2d: accepted for mmaction2's configs; 2D checkpoints load into TSM as they are.
        out_indices: default (3,); norm_eval: default False (mmaction2's ResNet).
        every_block: BlockAddons every block gets besides the shift (TANet's temporal adaptive module).
    """

    every_other_deep_block = True  # mmaction2 shifts every other block of ResNet-101's long third stage

    @staticmethod
    def temporal_addon(place: str, num_segments: int, shift_div: int) -> BlockAddon:
        """The module each shifting block gets (ResNetTIN gives its temporal interlace instead)."""
        return BlockAddon('shift', place, TemporalShift, dict(num_segments=num_segments, shift_div=shift_div))

    def __init__(self, depth: int, num_segments: int = 8, is_shift: bool = True, shift_div: int = 8,
                 shift_place: str = 'blockres', temporal_pool: bool = False,
                 non_local: Sequence[int | Sequence[int]] = (0, 0, 0, 0), non_local_cfg: dict | None = None,
                 out_indices: Sequence[int | str] = (3,), num_stages: int = 4,
                 stage_blocks: Sequence[int] | None = None, act_cfg: dict | None = None,
                 pretrained2d: bool = True, norm_eval: bool = False, every_block: Sequence[BlockAddon] = (),
                 **kwargs):
        check_choice('depth', depth, tuple(ARCH_SETTINGS))
        check_choice('shift_place', shift_place, SHIFT_PLACES)
        check_choice('num_stages', num_stages, (1, 2, 3, 4))
        if not isinstance(num_segments, int) or num_segments < 1:
            raise ValueError(f'num_segments must be an integer >= 1; got {num_segments!r}')
        if temporal_pool and (num_segments < 2 or num_segments % 2):
            # the pool leaves ceil(T / 2) frames; later stages fold num_segments // 2 per clip, so an odd count
            # mixed frames of neighbouring clips (mmaction2's view fails there)
            raise ValueError(f'temporal_pool halves each clip: num_segments must be even and >= 2; got '
                             f'{num_segments}')
        if act_cfg is not None and act_cfg.get('type') != 'ReLU':
            raise ValueError(f"ResNetTSM: act_cfg must be dict(type='ReLU') (mmaction2's ResNet); got {act_cfg}")
        if 'block_addons' in kwargs:
            raise ValueError('ResNetTSM does not take block_addons: they are built from its shift and non_local '
                             'arguments')
        stage_blocks = per_stage('stage_blocks', stage_blocks, ARCH_SETTINGS[depth][1], num_stages)
        non_local = per_stage('non_local', non_local, (0, 0, 0, 0), num_stages)
        every = 2 if self.every_other_deep_block and shift_place == 'blockres' and num_stages > 2 \
            and stage_blocks[2] >= 23 else 1
        addons = []
        for i, n in enumerate(stage_blocks):
            segments = num_segments // 2 if temporal_pool and i > 0 else num_segments
            nl_flags = block_flags(f'non_local[{i}]', non_local[i], n)
            stage = []
            for j in range(n):
                block = list(every_block)
                if temporal_pool and i == 1 and j == 0:
                    block.append(BlockAddon('temporal_pool', 'input', TemporalPool, dict(num_segments=num_segments)))
                if is_shift and j % every == 0:
                    block.append(self.temporal_addon('branch' if shift_place == 'blockres' else 'input', segments,
                                                     shift_div))
                if nl_flags[j]:
                    block.append(BlockAddon('non_local_block', 'output', NonLocal3d,
                                            {**(non_local_cfg or {}), 'num_segments': segments}))
                stage.append(tuple(block))
            addons.append(tuple(stage))
        super().__init__(depth, out_indices=out_indices, num_stages=num_stages, stage_blocks=stage_blocks,
                         norm_eval=norm_eval, block_addons=addons, **kwargs)
        self.num_segments = num_segments
