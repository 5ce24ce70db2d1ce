"""Video transforms: frame sampling, decoding, clip-wide crops and flips, and packing (mmaction2's names).

A clip travels as ``results['imgs']``: a (M, H, W, C) uint8 array of M = crops x clips x clip_len frames (mmaction2
keeps a list of HxWxC arrays; one array lets every transform treat all frames alike in one slice).
"""
from .sampling import SampleFrames, UniformSample

__all__ = ['SampleFrames', 'UniformSample']
