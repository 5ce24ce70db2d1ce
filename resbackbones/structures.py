"""What a backbone declares about its outputs, so necks and heads size themselves without configs repeating it."""
from __future__ import annotations

from dataclasses import dataclass


Ops = tuple[tuple[int, int, int, bool], ...]  # (kernel, stride, padding, ceil_mode) of each size-changing op


@dataclass(frozen=True)
class FeatureSpec:
    """One backbone output.

    Args:
        name: where the output is taken ('stem', 'layer1' ... 'layer4').
        channels: number of channels C of the output tensor.
        stride: spatial reduction relative to the input (an H x W input gives ceil(H/stride) x ceil(W/stride)).
        temporal_stride: reduction along time for video backbones; 1 for images.
        temporal_ops: the temporal (kernel, stride, padding, ceil_mode) of every op that reduces time, in order, so
            that lengths are exact where a pool rounds down (mmaction2's pool2); empty: every op rounds up.
        spatial_ops: the same along H and W, given only when some op does not round up (mmaction2's C2D stem
            max-pool has no padding); empty: ``ceil(size / stride)``.
    """

    name: str
    channels: int
    stride: int
    temporal_stride: int = 1
    temporal_ops: Ops = ()
    spatial_ops: Ops = ()

    def output_size(self, size: int) -> int:
        """Spatial size of this output for an input side of ``size``."""
        return apply_ops(self.spatial_ops, size) if self.spatial_ops else -(-size // self.stride)

    def temporal_output_size(self, frames: int) -> int:
        """Number of frames of this output for ``frames`` input frames (torch's conv/pool length formula per op)."""
        return apply_ops(self.temporal_ops, frames) if self.temporal_ops else -(-frames // self.temporal_stride)


def apply_ops(ops: Ops, size: int) -> int:
    """``size`` after each (kernel, stride, padding, ceil_mode) op in turn, by torch's conv/pool length formula."""
    for kernel, stride, padding, ceil_mode in ops:
        span = size + 2 * padding - kernel
        size = (-(-span // stride) if ceil_mode else span // stride) + 1
    return size


def rounds_up(op: tuple[int, int, int, bool]) -> bool:
    """Whether an op gives ceil(size / stride) for every size it accepts (a 'same'-padded conv or pool)."""
    kernel, stride, padding = op[:3]
    return all(apply_ops((op,), size) == -(-size // stride)
               for size in range(max(1, kernel - 2 * padding), kernel + 2 * padding + 2 * stride + 1))
