"""Datasets (classification folders and lists, segmentation, NIfTI ...), registered in ``registry.DATASETS``."""
from .annotation_list import AnnotationListDataset
from .base import ClassificationDataset
from .cached import CachedDataset
from .coco import CocoDataset
from .face import FaceFolderDataset, FaceRecDataset, FaceVerificationDataset
from .image_folder import IMG_EXTENSIONS, ImageFolderDataset
from .nifti import NiftiSliceDataset
from .nifti_volume import NiftiVolumeDataset
from .seg_folder import SegFolderDataset
from .video import (ActionListDataset, AudioDataset, AVADataset, AVAKineticsDataset, PoseDataset, RawframeDataset,
                    VideoDataset)

__all__ = ['AnnotationListDataset', 'CachedDataset', 'ClassificationDataset', 'CocoDataset', 'FaceFolderDataset',
           'FaceRecDataset', 'FaceVerificationDataset', 'IMG_EXTENSIONS', 'ImageFolderDataset', 'NiftiSliceDataset',
           'NiftiVolumeDataset', 'SegFolderDataset', 'ActionListDataset', 'AudioDataset', 'AVADataset',
           'AVAKineticsDataset', 'PoseDataset', 'RawframeDataset', 'VideoDataset']
