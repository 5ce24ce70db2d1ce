"""Video transforms: frame sampling, decoding, clip-wide crops and flips, and packing (mmaction2's names); PoseC3D's
skeleton-to-heatmap transforms and RGB + pose sampling, decoding and cropping (RGBPoseConv3D); audio-feature clips;
AVA's keyframe sampling, with person boxes following the clip transforms (boxes.py).

A clip travels as ``results['imgs']``: a (M, H, W, C) uint8 array of M = crops x clips x clip_len frames (mmaction2
keeps a list of HxWxC arrays; one array lets every transform treat all frames alike in one slice). mmaction2's clip
``Resize`` is ``ClipResize``; ``dict(type='Resize', scale=...)`` builds it.
"""
from .audio import AudioFeatureSelector, FormatAudioShape, LoadAudioFeature
from .ava_sampling import SampleAVAFrames
from .color_jitter import ColorJitter
from .crop import CenterCrop, MultiScaleCrop, RandomCrop, RandomResizedCrop
from .decord_names import DecordDecode, DecordInit
from .decoder import CorruptVideoError, VideoReader
from .flip import Flip
from .formatting import FormatShape, PackActionInputs
from .loading import PyAVDecode, PyAVInit, RawFrameDecode
from .multi_crop import TenCrop, ThreeCrop
from .pose_compact import MMCompact, PoseCompact
from .pose_heatmap import GeneratePoseTarget
from .pose_loading import DecompressPose, PoseDecode
from .pose_sampling import MMUniformSampleFrames, UniformSampleFrames
from .resize import ClipResize, RandomRescale
from .rgbpose_loading import MMDecode
from .sampling import DenseSampleFrames, SampleFrames, UniformSample

__all__ = ['AudioFeatureSelector', 'CenterCrop', 'ClipResize', 'ColorJitter', 'CorruptVideoError', 'DecompressPose',
           'DecordDecode', 'DecordInit', 'DenseSampleFrames', 'Flip', 'FormatAudioShape', 'FormatShape',
           'GeneratePoseTarget', 'LoadAudioFeature', 'MMCompact', 'MMDecode', 'MMUniformSampleFrames', 'MultiScaleCrop',
           'PackActionInputs', 'PoseCompact', 'PoseDecode', 'PyAVDecode', 'PyAVInit', 'RandomCrop', 'RandomRescale',
           'RandomResizedCrop', 'RawFrameDecode', 'SampleAVAFrames', 'SampleFrames', 'TenCrop', 'ThreeCrop',
           'UniformSample', 'UniformSampleFrames', 'VideoReader']
