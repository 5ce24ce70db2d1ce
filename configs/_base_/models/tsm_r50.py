# TSM R50 (mmaction2's tsm_r50): an ImageNet ResNet-50 whose residual branches shift 1/8 of their channels one frame
# back and 1/8 one frame forward (ResNetTSM, 8 segments), TSMHead scoring every frame (dropout 0.5, fc normal(0.001))
# and averaging a clip's 8 scores; frames normalised on the device (NCHW). in_channels come from the backbone.
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNetTSM', depth=50, num_segments=8, shift_div=8, norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    cls_head=dict(type='TSMHead', num_classes=400, num_segments=8, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.001, is_shift=True,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
)
