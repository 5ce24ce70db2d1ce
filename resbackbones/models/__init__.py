"""Task glue: models that combine a backbone with necks and heads."""
from .classifier import ImageClassifier
from .distiller import DistillClassifier
from .detectors import FasterRCNN, MaskRCNN
from .face import FaceRecognizer
from .recognizer import Recognizer3D
from .unet import UNet

__all__ = ['DistillClassifier', 'FaceRecognizer', 'FasterRCNN', 'ImageClassifier', 'MaskRCNN', 'Recognizer3D', 'UNet']
