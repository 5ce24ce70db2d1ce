"""resbackbones: ResNet backbones (2D, video, face) that plug into detection, segmentation and recognition configs.

``import resbackbones`` registers every model in ``resbackbones.registry.MODELS``.
"""
from . import backbones, heads, models  # noqa: F401  (registration)
from .api import create_model, list_models
from .structures import FeatureSpec

__version__ = '0.1.0'
__all__ = ['FeatureSpec', 'create_model', 'list_models', '__version__']
