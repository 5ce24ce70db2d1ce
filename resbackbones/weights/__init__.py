"""Portable pretrained weights: torchvision, timm, mmpretrain, mmdet and our own checkpoints, read safely.

``load_pretrained(model, path)`` detects the format, renames keys onto the target, adapts the first conv to other
input channels, loads all or nothing and returns a ``LoadReport``. See docs/weights.md.
"""
from .io import read_checkpoint
from .load import load_pretrained
from .report import LoadReport
from .sources import SOURCES, detect_source
from .stem import adapt_input_conv

__all__ = ['SOURCES', 'LoadReport', 'adapt_input_conv', 'detect_source', 'load_pretrained', 'read_checkpoint']
