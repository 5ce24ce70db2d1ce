"""Detectors: FasterRCNN and MaskRCNN from a registered backbone, a neck and torchvision's detection parts."""
from .two_stage import FasterRCNN, MaskRCNN

__all__ = ['FasterRCNN', 'MaskRCNN']
