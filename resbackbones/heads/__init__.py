"""Task heads that size themselves from a backbone's feature specs."""
from .linear_head import LinearClsHead
from .unet_decoder import UNetDecoder

__all__ = ['LinearClsHead', 'UNetDecoder']
