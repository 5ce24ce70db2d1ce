"""Build torchvision's R-CNN parts (RPN, RoIHeads) from mmdet-shaped config dicts and the neck's feature specs.

Nothing here is typed twice: anchor sizes are ``scales x stride`` of each neck level, RoI pooling uses the neck
levels at the backbone's strides (P2-P5 of an FPN), channel counts come from the specs. Config keys follow mmdet
(``train_cfg.rpn.assigner.pos_iou_thr``, ``test_cfg.rcnn.score_thr`` ...); the fixed choices are torchvision's:
low-quality matches for the RPN only (mmdet's keep them only at IoU >= min_pos_iou 0.3), ground-truth boxes added
to the RoI proposals in training, box deltas weighted (1, 1, 1, 1) in the RPN and (10, 10, 5, 5) in the RoI head.
"""
from __future__ import annotations

from typing import Sequence

from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead

from ...structures import FeatureSpec
from .mmdet_conventions import ExactAnchorGenerator
from .roi_pooler import MultiLevelRoIAlign

# Defaults: torchvision's fasterrcnn_resnet50_fpn / maskrcnn_resnet50_fpn, in mmdet's key layout.
RPN_HEAD = dict(anchor_generator=dict(scales=(8,), ratios=(0.5, 1.0, 2.0), round_to_pixels=True), conv_depth=1)
ROI_HEAD = dict(num_classes=80, roi_size=7, sampling_ratio=2, aligned=False, roi_align_impl='auto',
                fc_out_channels=1024, mask_roi_size=14, mask_channels=(256, 256, 256, 256), mask_dilation=1)
TRAIN_CFG = dict(
    rpn=dict(assigner=dict(pos_iou_thr=0.7, neg_iou_thr=0.3), sampler=dict(num=256, pos_fraction=0.5)),
    rpn_proposal=dict(nms_pre=2000, max_per_img=2000, nms=dict(iou_threshold=0.7), min_bbox_size=1e-3),
    rcnn=dict(assigner=dict(pos_iou_thr=0.5, neg_iou_thr=0.5), sampler=dict(num=512, pos_fraction=0.25)))
TEST_CFG = dict(
    rpn=dict(nms_pre=1000, max_per_img=1000, nms=dict(iou_threshold=0.7), min_bbox_size=1e-3),
    rcnn=dict(score_thr=0.05, nms=dict(iou_threshold=0.5), max_per_img=100, mask_thr_binary=0.5))
# mmdet 'type' values that name what these keys already do; any other type is refused rather than ignored.
KNOWN_TYPES = {'assigner': 'MaxIoUAssigner', 'sampler': 'RandomSampler', 'nms': 'nms',
               'anchor_generator': 'AnchorGenerator'}


def merge_cfg(defaults: dict, given: dict | None, where: str) -> dict:
    """``defaults`` updated by ``given`` recursively; unknown keys raise ValueError naming the full key path."""
    out = dict(defaults)
    for key, value in (given or {}).items():
        path = f'{where}.{key}'
        if key == 'type' and where.rsplit('.', 1)[-1] in KNOWN_TYPES:
            expected = KNOWN_TYPES[where.rsplit('.', 1)[-1]]
            if value != expected:
                raise ValueError(f'{path}={value!r}: only {expected!r} is supported (torchvision\'s implementation)')
            continue
        if key not in defaults:
            raise ValueError(f'unknown config key {path!r}; known keys of {where}: {sorted(defaults)}')
        out[key] = merge_cfg(defaults[key], value, path) if isinstance(defaults[key], dict) else value
    return out


class ModeRPN(RegionProposalNetwork):
    """torchvision's RPN with its own NMS IoU and minimum box size in training and testing, like mmdet's
    ``train_cfg.rpn_proposal`` vs ``test_cfg.rpn`` (torchvision has one value for both)."""

    def __init__(self, *args, nms_thresh: dict[str, float], min_size: dict[str, float], **kwargs):
        super().__init__(*args, nms_thresh=nms_thresh['testing'], **kwargs)
        self.mode_nms_thresh, self.mode_min_size = nms_thresh, min_size

    def forward(self, images, features, targets=None):
        mode = 'training' if self.training else 'testing'
        self.nms_thresh, self.min_size = self.mode_nms_thresh[mode], self.mode_min_size[mode]
        return super().forward(images, features, targets)


def level_names(specs: Sequence[FeatureSpec]) -> list[str]:
    """Keys of the feature dict that torchvision's RPN and poolers read: '0', '1', ... one per neck output."""
    return [str(i) for i in range(len(specs))]


def build_rpn(specs: Sequence[FeatureSpec], rpn_head: dict, train_cfg: dict, test_cfg: dict) -> ModeRPN:
    """torchvision RPN over every neck level; anchors of size ``scale * stride`` and the given h/w ratios."""
    channels = {s.channels for s in specs}
    if len(channels) != 1:
        raise ValueError(f'the RPN shares one head over all levels: neck outputs must have equal channels; '
                         f'got {[s.channels for s in specs]}')
    gen = rpn_head['anchor_generator']
    for key in ('scales', 'ratios'):  # scales=8 (mmdet writes [8]) failed as "'int' object is not iterable"
        values = gen[key]
        if not (isinstance(values, (list, tuple)) and values
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)):
            raise ValueError(f'rpn_head.anchor_generator.{key} must be a list of positive numbers, e.g. '
                             f'{list(RPN_HEAD["anchor_generator"][key])}; got {values!r}')
    sizes = tuple(tuple(float(scale * s.stride) for scale in gen['scales']) for s in specs)
    ratios = (tuple(gen['ratios']),) * len(specs)
    # torchvision's generator keeps its rounded sizes and image-size // grid strides, so its checkpoints compute as
    # trained; the exact one places every level's grid at its declared stride, as mmdet's
    anchors = AnchorGenerator(sizes, ratios) if gen['round_to_pixels'] else \
        ExactAnchorGenerator(sizes, ratios, [s.stride for s in specs])
    head = RPNHead(channels.pop(), anchors.num_anchors_per_location()[0], conv_depth=rpn_head['conv_depth'])
    train, proposal, test = train_cfg['rpn'], train_cfg['rpn_proposal'], test_cfg['rpn']
    return ModeRPN(
        anchors, head, fg_iou_thresh=train['assigner']['pos_iou_thr'], bg_iou_thresh=train['assigner']['neg_iou_thr'],
        batch_size_per_image=train['sampler']['num'], positive_fraction=train['sampler']['pos_fraction'],
        pre_nms_top_n=dict(training=proposal['nms_pre'], testing=test['nms_pre']),
        post_nms_top_n=dict(training=proposal['max_per_img'], testing=test['max_per_img']),
        nms_thresh=dict(training=proposal['nms']['iou_threshold'], testing=test['nms']['iou_threshold']),
        min_size=dict(training=proposal['min_bbox_size'], testing=test['min_bbox_size']))


def roi_levels(neck_specs: Sequence[FeatureSpec], backbone_specs: Sequence[FeatureSpec]) -> list[str]:
    """Neck levels pooled by the RoI heads: those at a backbone stride (P2-P5; the max-pooled P6 is RPN-only)."""
    strides = {s.stride for s in backbone_specs}
    names = [name for name, s in zip(level_names(neck_specs), neck_specs) if s.stride in strides]
    if not names:
        raise ValueError(f'no neck level is at a backbone stride {sorted(strides)}: cannot pool RoIs')
    return names


def build_roi_heads(neck_specs: Sequence[FeatureSpec], backbone_specs: Sequence[FeatureSpec], roi_head: dict,
                    train_cfg: dict, test_cfg: dict, with_mask: bool) -> RoIHeads:
    """torchvision RoIHeads: RoIAlign -> TwoMLPHead -> FastRCNNPredictor (+ mask branch when ``with_mask``)."""
    names = roi_levels(neck_specs, backbone_specs)
    strides = [s.stride for name, s in zip(level_names(neck_specs), neck_specs) if name in names]
    channels = neck_specs[0].channels
    num_classes = roi_head['num_classes'] + 1  # torchvision's label 0 is the background
    size, ratio = roi_head['roi_size'], roi_head['sampling_ratio']

    def pooler(names: list[str], size: int, ratio: int) -> MultiLevelRoIAlign:
        return MultiLevelRoIAlign(names, size, ratio, strides, aligned=roi_head['aligned'],
                                  impl=roi_head['roi_align_impl'])

    train, test = train_cfg['rcnn'], test_cfg['rcnn']
    mask = {}
    if with_mask:
        mask_channels = list(roi_head['mask_channels'])
        mask = dict(mask_roi_pool=pooler(names, roi_head['mask_roi_size'], ratio),
                    mask_head=MaskRCNNHeads(channels, mask_channels, roi_head['mask_dilation']),
                    mask_predictor=MaskRCNNPredictor(mask_channels[-1], mask_channels[-1], num_classes))
    return RoIHeads(
        box_roi_pool=pooler(names, size, ratio),
        box_head=TwoMLPHead(channels * size * size, roi_head['fc_out_channels']),
        box_predictor=FastRCNNPredictor(roi_head['fc_out_channels'], num_classes),
        fg_iou_thresh=train['assigner']['pos_iou_thr'], bg_iou_thresh=train['assigner']['neg_iou_thr'],
        batch_size_per_image=train['sampler']['num'], positive_fraction=train['sampler']['pos_fraction'],
        bbox_reg_weights=None, score_thresh=test['score_thr'], nms_thresh=test['nms']['iou_threshold'],
        detections_per_img=test['max_per_img'], **mask)
