"""Task heads that size themselves from a backbone's feature specs."""
from .face_embedding import FaceEmbeddingHead
from .linear_head import LinearClsHead
from .partial_fc import PartialFCHead
from .margin import ArcFaceHead, CosFaceHead, MarginHead, SoftmaxHead
from .unet_decoder import UNetDecoder

__all__ = ['ArcFaceHead', 'CosFaceHead', 'FaceEmbeddingHead', 'LinearClsHead', 'MarginHead', 'PartialFCHead',
           'SoftmaxHead', 'UNetDecoder']
