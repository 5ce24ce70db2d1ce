"""Task heads that size themselves from a backbone's feature specs."""
from .linear_head import LinearClsHead

__all__ = ['LinearClsHead']
