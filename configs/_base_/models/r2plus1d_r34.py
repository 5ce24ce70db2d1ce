# R(2+1)D-34 (mmaction2's r2plus1d_r34), written in mmaction2's own form (cls_head=I3DHead): every 3D conv factorised
# into a spatial 1xkxk and a temporal tx1x1 conv (mid-channels by the R(2+1)D paper's formula), temporal strides 2 from
# the second stage on, SyncBN (eps 1e-3; plain BN when not distributed), trained from scratch; dropout 0.5.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet2Plus1d', depth=34, pretrained=None, pretrained2d=False, norm_eval=False,
                  conv_cfg=dict(type='Conv2plus1d'), norm_cfg=dict(type='SyncBN', requires_grad=True, eps=1e-3),
                  conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(1, 1, 1, 1),
                  spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2), zero_init_residual=False),
    cls_head=dict(type='I3DHead', num_classes=400, spatial_type='avg', dropout_ratio=0.5, init_std=0.01,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
)
