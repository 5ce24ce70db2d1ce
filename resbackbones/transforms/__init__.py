"""Image transforms, registered in ``resbackbones.registry.TRANSFORMS`` (classification ones here; seg_* for masks).

Every transform is an mmcv ``BaseTransform`` (``transform(results: dict) -> dict``) with mmcv's keys: ``img_path``,
``img`` (HxWxC uint8 numpy), ``img_shape``/``ori_shape`` ((h, w)), ``gt_label``. ``PackInputs`` ends a pipeline
with the model's ``inputs`` tensor and ``data_samples`` dict. Importing mmcv's transforms registers them in
mmengine's root registry, the parent of ours, so an mmdet/mmaction2 user's ``RandomFlip`` (ours: mmcv's, flipping
instance masks too), ``RandomResize``, ``CenterCrop``, ``RandomApply``, ``RandomChoice`` or ``TestTimeAug`` dicts
work in our pipelines by name (``mmcv.Resize`` where we define a transform of the same name), and mmcv's wrappers
compose with ours.
"""
from .albu import Albu
from .det_albu import DetAlbu
from .det_flip import RandomFlip
from .det_formatting import PackDetInputs
from .det_loading import LoadDetAnnotations
from .decode import LoadImageFromBytes
from .det_resize import DetResize
from .face_align import FaceAlign, align_face
from .instance_map import InstanceMap
from .formatting import PackInputs
from .loading import CorruptImageError, LoadImageFromFile
from .resize import Resize
from .seg_albu import SegAlbu
from .seg_crop import RandomPatch
from .seg_formatting import PackSegInputs
from .seg_intensity import NormalizeIntensity, normalize_intensity
from .seg_loading import LoadImageAndMask
from . import video  # noqa: F401  (registers the video transforms)
from .volume_augment import RandomAffine3D, RandomFlip3D, RandomRot90In3D
from .volume_crop import RandomPatch3D
from .volume_formatting import PackVolumeInputs

__all__ = ['Albu', 'DetAlbu', 'DetResize', 'InstanceMap', 'LoadDetAnnotations', 'PackDetInputs',  # detection
           'RandomFlip',
           'FaceAlign', 'LoadImageFromBytes', 'align_face',  # face
           'CorruptImageError', 'LoadImageAndMask', 'LoadImageFromFile', 'NormalizeIntensity', 'PackInputs',
           'PackSegInputs', 'RandomPatch', 'Resize', 'SegAlbu', 'normalize_intensity',
           'PackVolumeInputs', 'RandomAffine3D', 'RandomFlip3D', 'RandomPatch3D', 'RandomRot90In3D']  # volumes
