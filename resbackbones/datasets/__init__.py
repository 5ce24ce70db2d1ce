"""Datasets (classification folders and lists, segmentation, NIfTI ...), registered in ``registry.DATASETS``."""
from .annotation_list import AnnotationListDataset
from .base import ClassificationDataset
from .image_folder import IMG_EXTENSIONS, ImageFolderDataset

__all__ = ['AnnotationListDataset', 'ClassificationDataset', 'IMG_EXTENSIONS', 'ImageFolderDataset']
