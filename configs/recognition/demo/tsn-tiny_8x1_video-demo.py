# The video demo's control: TSN (Recognizer2D + TSNHead, average consensus) over the same 8 frames with a tiny 2D
# ResNet-18 (base width 8): frame features are averaged, so frame order and motion cannot matter by construction.
_base_ = ['./resnet3d-tiny_8x1_video-demo.py']
model = dict(
    _delete_=True,
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, base_channels=8, zero_init_residual=False),
    cls_head=dict(type='TSNHead', num_classes=2, dropout_ratio=0.2, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           format_shape='NCHW'),
)
# The same pipelines with frames laid out for a 2D model (FormatShape NCHW).
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='MultiScaleCrop', input_size=64, scales=(1, 0.875, 0.75), random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]))
val_dataloader = dict(dataset=dict(pipeline=[
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]))
test_dataloader = val_dataloader
