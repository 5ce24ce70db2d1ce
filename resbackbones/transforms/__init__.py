"""Image transforms, registered in ``resbackbones.registry.TRANSFORMS`` (classification ones here; seg_* for masks).

A transform is a callable ``results: dict -> dict``; keys follow mmcv's: ``img_path``, ``img`` (HxWxC uint8
numpy), ``img_shape``/``ori_shape`` ((h, w)), ``gt_label``. ``PackInputs`` ends a pipeline with the model's
``inputs`` tensor and ``data_samples`` dict.
"""
from .albu import Albu
from .formatting import PackInputs
from .loading import CorruptImageError, LoadImageFromFile
from .resize import Resize

__all__ = ['Albu', 'CorruptImageError', 'LoadImageFromFile', 'PackInputs', 'Resize']
