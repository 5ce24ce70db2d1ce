"""Losses (registered in MODELS): soft Dice and cross-entropy for segmentation, KD for distillation; a model sums
them with weights."""
from .cross_entropy import CrossEntropyLoss
from .dice import DiceLoss, soft_dice
from .distillation import KDLoss
from .targets import one_hot_target

__all__ = ['CrossEntropyLoss', 'DiceLoss', 'KDLoss', 'one_hot_target', 'soft_dice']
