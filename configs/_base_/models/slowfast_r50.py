# SlowFast R50 4x16 (mmaction2's slowfast_r50 = ResNet3dSlowFast with its defaults): the slow pathway takes every
# 8th frame (tau), the fast one 8x as many (alpha) at 1/8 of the width (beta), joined by lateral convs; trained from
# scratch, as mmaction2's. Its SlowFastHead: both pathways averaged, concatenated, dropout 0.5, fc.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowFast', resample_rate=8, speed_ratio=8, channel_ratio=8,
                  slow_pathway=dict(type='resnet3d', depth=50, lateral=True, conv1_kernel=(1, 7, 7),
                                    conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1), norm_eval=False),
                  fast_pathway=dict(type='resnet3d', depth=50, lateral=False, base_channels=8,
                                    conv1_kernel=(5, 7, 7), conv1_stride_t=1, pool1_stride_t=1, norm_eval=False)),
    cls_head=dict(type='SlowFastHead', num_classes=400, dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
)
