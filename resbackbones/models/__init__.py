"""Task glue: models that combine a backbone with necks and heads."""
from .action_detection import FastRCNN
from .action_preprocessor import ActionDataPreprocessor
from .classifier import ImageClassifier
from .detectors import FasterRCNN, MaskRCNN
from .distiller import DistillClassifier
from .face import FaceRecognizer
from .multimodal_preprocessor import MultiModalDataPreprocessor
from .recognizer import Recognizer3D
from .recognizer2d import Recognizer2D
from .recognizer_audio import RecognizerAudio
from .recognizer_mm import MMRecognizer3D
from .recognizer_omni import RecognizerOmni
from .unet import UNet

__all__ = ['ActionDataPreprocessor', 'MMRecognizer3D', 'MultiModalDataPreprocessor', 'Recognizer2D',  # video
           'RecognizerAudio', 'RecognizerOmni', 'FastRCNN',
           'DistillClassifier', 'FaceRecognizer', 'FasterRCNN', 'ImageClassifier', 'MaskRCNN', 'Recognizer3D', 'UNet']
