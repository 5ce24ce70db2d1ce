"""Metrics, registered in ``resbackbones.registry.METRICS``."""
from .accuracy import Accuracy, topk_accuracy
from .coco_metric import CocoMetric
from .face_verification import FaceVerificationMetric, verification_scores
from .seg_metric import SegMetric, hd95

__all__ = ['Accuracy', 'CocoMetric', 'FaceVerificationMetric', 'SegMetric', 'hd95', 'topk_accuracy',
           'verification_scores']
