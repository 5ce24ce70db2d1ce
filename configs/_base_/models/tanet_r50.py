# TANet R50 (mmaction2's tanet_r50): an ImageNet ResNet-50 over 8 frames per clip whose every bottleneck adapts a
# temporal conv to the clip after its first conv (TAM: a per-clip, per-channel kernel and per-frame gates); TSMHead
# scores every frame (dropout 0.5, fc normal(0.001)) and averages a clip's scores. in_channels from the backbone.
model = dict(
    type='Recognizer2D',
    backbone=dict(type='TANet', depth=50, num_segments=8,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    cls_head=dict(type='TSMHead', num_classes=400, num_segments=8, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.001,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
)
