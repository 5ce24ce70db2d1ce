"""Task glue: models that combine a backbone with necks and heads."""
from .classifier import ImageClassifier

__all__ = ['ImageClassifier']
