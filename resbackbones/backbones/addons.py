"""BlockAddon: a module added to residual blocks, given to the core as data (per stage, per block).

Some video networks are a ResNet plus a module in chosen blocks: mmaction2's I3D-NL puts a non-local block after
the activation of certain blocks; TSM shifts channels in time at the input of each block's residual branch; TANet
adapts a temporal conv after each block's first conv. The
core takes these as ``block_addons`` (one tuple of BlockAddons per block) and each block builds and runs its own,
so no view copies a block or wraps one after construction. A 2D ResNet has none, and its blocks are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from torch import nn

PLACES = ('input', 'branch', 'inner', 'output')


@dataclass(frozen=True)
class BlockAddon:
    """One module in a residual block.

    Args:
        name: its attribute in the block, hence its checkpoint keys (mmaction2's ``non_local_block``).
        place: where it runs: 'input' (on the block's input, before the shortcut and the branch: TSM's 'block'
            shift), 'branch' (on the input of the residual branch only: TSM's 'blockres' shift), 'inner' (inside the
            branch, after the first conv's norm and activation: TANet's temporal adaptive module) or 'output' (after
            the block's activation: the non-local block).
        module: the module class, built as ``module(channels, **options)`` where channels are the block's input
            channels ('input', 'branch'), its first conv's output channels ('inner') or output channels ('output').
        options: its keyword arguments.
    """

    name: str
    place: str
    module: type[nn.Module]
    options: dict = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.place not in PLACES:
            raise ValueError(f'BlockAddon {self.name!r}: place must be one of {PLACES}; got {self.place!r}')
        if not self.name.isidentifier():
            raise ValueError(f'BlockAddon name must be a Python identifier; got {self.name!r}')

    def build(self, in_channels: int, out_channels: int, inner_channels: int) -> nn.Module:
        channels = {'output': out_channels, 'inner': inner_channels}.get(self.place, in_channels)
        return self.module(channels, **self.options)


def check_block_addons(block_addons: Sequence[Sequence[Sequence[BlockAddon]]] | None,
                       stage_blocks: Sequence[int]) -> tuple[tuple[tuple[BlockAddon, ...], ...], ...] | None:
    """``block_addons`` as nested tuples with one entry per stage and per block; ValueError naming a misfit."""
    if block_addons is None:
        return None
    if len(block_addons) != len(stage_blocks):
        raise ValueError(f'block_addons needs one entry per stage ({len(stage_blocks)}); got {len(block_addons)}')
    out = []
    for i, (stage, n) in enumerate(zip(block_addons, stage_blocks)):
        if len(stage) != n:
            raise ValueError(f'block_addons[{i}] needs one tuple per block ({n}); got {len(stage)}')
        for j, addons in enumerate(stage):
            if any(not isinstance(a, BlockAddon) for a in addons):
                raise ValueError(f'block_addons[{i}][{j}] must hold BlockAddon objects; got {addons!r}')
        out.append(tuple(tuple(addons) for addons in stage))
    return tuple(out)
