# TPN on TSM R50 (mmaction2's tpn_tsm_r50): the shift network's last two stages (1024 and 2048 channels, read from
# its feature specs) pooled over a clip's 8 frames and fused by a TPN neck into a 2048-channel map; an auxiliary
# head on the third stage adds half its cross-entropy in training; 174 classes (Something-Something V1), as there.
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNetTSM', depth=50, out_indices=(2, 3), norm_eval=False, shift_div=8,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='TPN', out_channels=1024, temporal_modulation_cfg=dict(downsample_scales=(8, 8)),
              upsample_cfg=dict(scale_factor=(1, 1, 1)), downsample_cfg=dict(downsample_scale=(1, 1, 1)),
              level_fusion_cfg=dict(out_channels=2048), aux_head_cfg=dict(out_channels=174, loss_weight=0.5)),
    cls_head=dict(type='TPNHead', num_classes=174, spatial_type='avg', consensus=dict(type='AvgConsensus', dim=1),
                  dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
    test_cfg=dict(fcn_test=True),
)
