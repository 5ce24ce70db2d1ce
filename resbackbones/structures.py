"""What a backbone declares about its outputs, so necks and heads size themselves without configs repeating it."""
from __future__ import annotations

from dataclasses import dataclass


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
    """

    name: str
    channels: int
    stride: int
    temporal_stride: int = 1
    temporal_ops: tuple[tuple[int, int, int, bool], ...] = ()

    def output_size(self, size: int) -> int:
        """Spatial size of this output for an input side of ``size`` (all our convs and pools round up)."""
        return -(-size // self.stride)

    def temporal_output_size(self, frames: int) -> int:
        """Number of frames of this output for ``frames`` input frames (torch's conv/pool length formula per op)."""
        if not self.temporal_ops:
            return -(-frames // self.temporal_stride)
        for kernel, stride, padding, ceil_mode in self.temporal_ops:
            span = frames + 2 * padding - kernel
            frames = (-(-span // stride) if ceil_mode else span // stride) + 1
        return frames
