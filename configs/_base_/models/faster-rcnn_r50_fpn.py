# Faster R-CNN R50-FPN (torchvision's fasterrcnn_resnet50_fpn, in mmdet's layout). The FPN's in_channels, the anchor
# sizes (scales x level stride) and the RoI levels are derived from the backbone at build time: nothing here repeats
# a channel count. Keys and defaults: resbackbones/models/detectors/rcnn_parts.py.
# tools/test.py --show-dir DIR draws each test image's detections (boxes, class, score, masks) to DIR/<name>.png.
show_hook = 'DetVisualizationHook'
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3), frozen_stages=1, norm_cfg=dict(type='FrozenBN'),
                  norm_eval=True, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='FPN', out_channels=256, num_outs=5),
    rpn_head=dict(anchor_generator=dict(type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0])),
    roi_head=dict(num_classes=80, roi_size=7, sampling_ratio=2, fc_out_channels=1024),
    train_cfg=dict(
        rpn=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3),
                 sampler=dict(type='RandomSampler', num=256, pos_fraction=0.5)),
        rpn_proposal=dict(nms_pre=2000, max_per_img=2000, nms=dict(type='nms', iou_threshold=0.7)),
        rcnn=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5),
                  sampler=dict(type='RandomSampler', num=512, pos_fraction=0.25))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7)),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))
