# mask-rcnn_r50_fpn_1x_coco with mmdet's sampling conventions: RoIAlign aligned=True with adaptive sampling, base
# anchors of exact size. Use it for checkpoints converted from mmdet (docs/detection.md, "mmdet checkpoints"):
#   python -m resbackbones.weights.mmdet_detection MMDET.pth ours.pth --config THIS_FILE
_base_ = './mask-rcnn_r50_fpn_1x_coco.py'
model = dict(rpn_head=dict(anchor_generator=dict(round_to_pixels=False)), roi_head=dict(aligned=True, sampling_ratio=0))
