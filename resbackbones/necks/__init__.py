"""Necks: modules between a backbone's tuple of features and the task heads."""
from .fpn import FPN

__all__ = ['FPN']
