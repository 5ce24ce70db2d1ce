"""Segmentation losses (registered in MODELS): soft Dice and cross-entropy; a model sums them with weights."""
from .cross_entropy import CrossEntropyLoss
from .dice import DiceLoss, soft_dice
from .targets import one_hot_target

__all__ = ['CrossEntropyLoss', 'DiceLoss', 'one_hot_target', 'soft_dice']
