"""Metrics, registered in ``resbackbones.registry.METRICS``."""
from .accuracy import Accuracy, topk_accuracy
from .action_accuracy import AccMetric, mean_class_accuracy
from .coco_metric import CocoMetric
from .seg_metric import SegMetric, hd95

__all__ = ['AccMetric', 'Accuracy', 'mean_class_accuracy', 'CocoMetric', 'SegMetric', 'hd95', 'topk_accuracy']
