# TPN on SlowOnly R50 (mmaction2's tpn_slowonly_r50): the backbone's last two stages (1024 and 2048 channels, read
# from its feature specs) aligned in space, pooled in time by 8, fused top-down and bottom-up by a TPN neck into a
# 2048-channel map; an auxiliary head on the third stage adds half its cross-entropy in training. Initialised from
# an inflated ImageNet ResNet-50, as mmaction2's imagenet-pretrained TPN config.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowOnly', depth=50, out_indices=(2, 3), norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='TPN', out_channels=1024, temporal_modulation_cfg=dict(downsample_scales=(8, 8)),
              upsample_cfg=dict(scale_factor=(1, 1, 1)), downsample_cfg=dict(downsample_scale=(1, 1, 1)),
              level_fusion_cfg=dict(out_channels=2048), aux_head_cfg=dict(out_channels=400, loss_weight=0.5)),
    cls_head=dict(type='TPNHead', num_classes=400, dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    test_cfg=dict(fcn_test=True),
)
