"""Metrics, registered in ``resbackbones.registry.METRICS``."""
from .accuracy import Accuracy, topk_accuracy
from .action_accuracy import AccMetric, mean_class_accuracy
from .ava_metric import AVAMetric
from .coco_metric import CocoMetric
from .face_verification import FaceVerificationMetric, verification_scores
from .multisports_metric import MultiSportsMetric
from .seg_metric import SegMetric, hd95

__all__ = ['AVAMetric', 'AccMetric', 'Accuracy', 'CocoMetric', 'FaceVerificationMetric', 'MultiSportsMetric',
           'SegMetric', 'hd95', 'mean_class_accuracy', 'topk_accuracy', 'verification_scores']
