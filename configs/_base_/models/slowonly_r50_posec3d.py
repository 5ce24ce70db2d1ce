# PoseC3D's SlowOnly R50 (mmaction2's skeleton/posec3d configs): ResNet3dSlowOnly over 17 joint heatmaps, base width 32,
# three stages of (4, 6, 3) blocks (ResNet-50's last three), no stem downsampling (64 px maps), temporal kernels in
# stages 2-3, the last stage halving time; 1,994,080 backbone parameters as mmaction2's (metafile: 2.0M). Its
# I3DHead-equivalent classifier (dropout 0.5, 'prob' averaging over testing's 10 clips x 2 flips). Heatmaps need no
# normalisation, so the data preprocessor only stacks them (mmaction2's default).
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowOnly', depth=50, pretrained=None, in_channels=17, base_channels=32, num_stages=3,
                  out_indices=(2, ), stage_blocks=(4, 6, 3), conv1_stride_s=1, pool1_stride_s=1, inflate=(0, 1, 1),
                  spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2), dilations=(1, 1, 1)),
    num_classes=60,
    dropout=0.5,
    average_clips='prob',
)
