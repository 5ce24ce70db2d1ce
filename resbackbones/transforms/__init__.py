"""Image transforms, registered in ``resbackbones.registry.TRANSFORMS`` (classification ones here; seg_* for masks).

A transform is a callable ``results: dict -> dict``; keys follow mmcv's: ``img_path``, ``img`` (HxWxC uint8
numpy), ``img_shape``/``ori_shape`` ((h, w)), ``gt_label``. ``PackInputs`` ends a pipeline with the model's
``inputs`` tensor and ``data_samples`` dict.
"""
from .albu import Albu
from .det_albu import DetAlbu
from .det_formatting import PackDetInputs
from .det_loading import LoadDetAnnotations
from .decode import LoadImageFromBytes
from .det_resize import DetResize
from .face_align import FaceAlign, align_face
from .formatting import PackInputs
from .loading import CorruptImageError, LoadImageFromFile
from .resize import Resize
from .seg_albu import SegAlbu
from .seg_crop import RandomPatch
from .seg_formatting import PackSegInputs
from .seg_intensity import NormalizeIntensity, normalize_intensity
from .seg_loading import LoadImageAndMask

__all__ = ['Albu', 'DetAlbu', 'DetResize', 'LoadDetAnnotations', 'PackDetInputs',  # detection
           'FaceAlign', 'LoadImageFromBytes', 'align_face',  # face
           'CorruptImageError', 'LoadImageAndMask', 'LoadImageFromFile', 'NormalizeIntensity', 'PackInputs',
           'PackSegInputs', 'RandomPatch', 'Resize', 'SegAlbu', 'normalize_intensity']
