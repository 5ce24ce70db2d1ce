# mmaction2's AVA detector on SlowOnly R50: FastRCNN without an RPN scores the person boxes of an external detector
# (the proposals); the backbone's last stage keeps stride 16 (spatial_strides 1, 2, 2, 1), its features are averaged
# over time and cut per box by RoIAlign (8 x 8), max-pooled and scored for the 80 actions + an unused class 0
# (sigmoid, multi-label). The heads' in_channels follow from the backbone. Training uses the ground-truth boxes and
# proposals overlapping one at IoU >= 0.9. Initialised from a Kinetics-400 SlowOnly recognizer: set its path.
model = dict(
    type='FastRCNN',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/slowonly_r50_4x16x1_kinetics400-rgb.pth'),
    backbone=dict(type='ResNet3dSlowOnly', depth=50, pretrained=None, pretrained2d=False, lateral=False,
                  num_stages=4, conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                  spatial_strides=(1, 2, 2, 1)),
    roi_head=dict(type='AVARoIHead',
                  bbox_roi_extractor=dict(type='SingleRoIExtractor3D', roi_layer_type='RoIAlign', output_size=8,
                                          with_temporal_pool=True),
                  bbox_head=dict(type='BBoxHeadAVA', background_class=True, num_classes=81, multilabel=True,
                                 dropout_ratio=0.5)),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    train_cfg=dict(rcnn=dict(assigner=dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9,
                                           min_pos_iou=0.9),
                             sampler=dict(type='RandomSampler', num=32, pos_fraction=1, neg_pos_ub=-1,
                                          add_gt_as_proposals=True),
                             pos_weight=1.0)),
    test_cfg=dict(rcnn=None))
