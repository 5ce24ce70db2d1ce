"""Spatio-temporal action detection (AVA): who does what, where, in a video key frame (mmaction2's FastRCNN), with
mmaction2's long-term feature bank (LFB: LFBInferHead writes it, FBOHead reads it through LFB)."""
from .acrn_head import ACRNHead
from .bbox_head_ava import BBoxHeadAVA
from .fast_rcnn import FastRCNN
from .fbo import FBOAvg, FBOMax, FBONonLocal, NonLocalLayer
from .fbo_head import FBOHead
from .lfb import LFB
from .lfb_infer_head import LFBInferHead
from .roi_extractor import SingleRoIExtractor3D
from .roi_head import AVARoIHead

__all__ = ['ACRNHead', 'AVARoIHead', 'BBoxHeadAVA', 'FBOAvg', 'FBOHead', 'FBOMax', 'FBONonLocal', 'FastRCNN', 'LFB',
           'LFBInferHead', 'NonLocalLayer', 'SingleRoIExtractor3D']
