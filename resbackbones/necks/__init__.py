"""Necks: modules between a backbone's tuple of features and the task heads."""
from .fpn import FPN
from .tpn import TPN

__all__ = ['FPN', 'TPN']
