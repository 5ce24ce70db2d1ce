"""Building blocks shared by every backbone: norm/conv factories (2D and 3D), deformable conv, drop path."""
from .act import ACT_TYPES, activation_name, build_activation
from .conv import CONV_TYPES, build_conv_layer
from .conv_audio import ConvAudio
from .deform_conv import DeformConv2dPack
from .drop_path import DropPath
from .factory import LayerFactory
from .norm import NORM_TYPES, FrozenBatchNorm, build_norm_layer, is_batch_norm, running_stats_kept

__all__ = ['ACT_TYPES', 'CONV_TYPES', 'NORM_TYPES', 'ConvAudio', 'DeformConv2dPack', 'DropPath', 'FrozenBatchNorm',
           'LayerFactory', 'activation_name', 'build_activation', 'build_conv_layer', 'build_norm_layer',
           'is_batch_norm', 'running_stats_kept']
