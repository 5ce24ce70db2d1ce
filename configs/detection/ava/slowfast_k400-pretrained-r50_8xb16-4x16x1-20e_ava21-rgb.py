# mmaction2's SlowFast R50 AVA v2.1 detector: the SlowOnly recipe with a SlowFast backbone (slow: every 8th of 32
# frames 2 apart, fast: all 32 at 1/8 width), both pathways' features joined per box (2304 channels, derived).
# mmaction2 reports 24.32 frame mAP with it; not run here (no AVA offline).
_base_ = ['./slowonly_k400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py']
model = dict(
    init_cfg=dict(checkpoint='checkpoints/slowfast_r50_4x16x1_kinetics400-rgb.pth'),
    backbone=dict(_delete_=True, type='ResNet3dSlowFast', pretrained=None, resample_rate=8, speed_ratio=8,
                  channel_ratio=8,
                  slow_pathway=dict(type='resnet3d', depth=50, pretrained=None, lateral=True, conv1_kernel=(1, 7, 7),
                                    dilations=(1, 1, 1, 1), conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1),
                                    spatial_strides=(1, 2, 2, 1)),
                  fast_pathway=dict(type='resnet3d', depth=50, pretrained=None, lateral=False, base_channels=8,
                                    conv1_kernel=(5, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                                    spatial_strides=(1, 2, 2, 1))))
# 32 frames 2 apart per clip (mmaction2 cannot patch one list item through _base_, so the pipelines are restated)
train_pipeline = [
    dict(type='SampleAVAFrames', clip_len=32, frame_interval=2),
    dict(type='RawFrameDecode'),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=256),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleAVAFrames', clip_len=32, frame_interval=2, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
