# TSN R50 (mmaction2's tsn_r50): an ImageNet ResNet-50 over each segment frame, TSNHead averaging the frame
# features (AvgConsensus), dropout 0.4, fc; clips normalised on the device (NCHW frames). The head's in_channels
# come from the backbone.
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=50, norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    cls_head=dict(type='TSNHead', num_classes=400, spatial_type='avg', consensus=dict(type='AvgConsensus', dim=1),
                  dropout_ratio=0.4, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
)
