"""Task heads that size themselves from a backbone's feature specs."""
from .action_head import I3DHead, SlowFastHead, TPNHead, TSMHead, TSNAudioHead, TSNHead
from .face_embedding import FaceEmbeddingHead
from .linear_head import LinearClsHead
from .margin import ArcFaceHead, CosFaceHead, MarginHead, SoftmaxHead
from .omni_head import OmniHead
from .partial_fc import PartialFCHead
from .rgbpose_head import RGBPoseHead
from .temporal_head import TemporalHead
from .trn_head import TRNHead
from .unet_decoder import UNetDecoder

__all__ = ['I3DHead', 'OmniHead', 'RGBPoseHead', 'SlowFastHead', 'TPNHead', 'TRNHead', 'TSMHead', 'TSNAudioHead',  # video
           'TSNHead', 'TemporalHead',
           'ArcFaceHead', 'CosFaceHead', 'FaceEmbeddingHead', 'MarginHead', 'PartialFCHead', 'SoftmaxHead',  # face
           'LinearClsHead', 'UNetDecoder']
