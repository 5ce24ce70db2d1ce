"""Spatio-temporal action detection (AVA): who does what, where, in a video key frame (mmaction2's FastRCNN)."""
from .acrn_head import ACRNHead
from .bbox_head_ava import BBoxHeadAVA
from .fast_rcnn import FastRCNN
from .roi_extractor import SingleRoIExtractor3D
from .roi_head import AVARoIHead

__all__ = ['ACRNHead', 'AVARoIHead', 'BBoxHeadAVA', 'FastRCNN', 'SingleRoIExtractor3D']
