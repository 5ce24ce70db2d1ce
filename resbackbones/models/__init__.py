"""Task glue: models that combine a backbone with necks and heads."""
from .classifier import ImageClassifier
from .detectors import FasterRCNN, MaskRCNN
from .face import FaceRecognizer
from .action_preprocessor import ActionDataPreprocessor
from .recognizer import Recognizer3D
from .recognizer2d import Recognizer2D
from .unet import UNet

__all__ = ['ActionDataPreprocessor', 'Recognizer2D',
           'FaceRecognizer', 'FasterRCNN', 'ImageClassifier', 'MaskRCNN', 'Recognizer3D', 'UNet']
