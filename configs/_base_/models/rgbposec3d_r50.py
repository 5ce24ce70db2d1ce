# PoseC3D's RGB + pose two-stream network (mmaction2's skeleton/posec3d/rgbpose_conv3d): RGBPoseConv3D's defaults, an
# RGB SlowOnly R50 over 8 frames and a pose pathway (base width 32, stages of 4, 6, 3 blocks, no stem downsampling)
# over 32 heatmap frames a quarter of the frames' size, joined both ways after RGB stages 2-3 / pose stages 1-2;
# 35,994,208 backbone parameters, as mmaction2's. One classifier per stream (RGBPoseHead), both trained; testing
# scores each stream and their weighted sums (AccMetric: 'rgb_top1', 'pose_top1', 'RGBPose_1:1_top1', ...).
model = dict(
    type='MMRecognizer3D',
    backbone=dict(type='RGBPoseConv3D', speed_ratio=4, channel_ratio=4),
    cls_head=dict(type='RGBPoseHead', num_classes=60, loss_components=['rgb', 'pose'], loss_weights=[1., 1.],
                  average_clips='prob'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            imgs=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                      format_shape='NCTHW'),
            heatmap_imgs=dict(type='ActionDataPreprocessor'))))
