# Kinetics-400 videos for TANet (mmaction2's dense 1x1x8): TSM's layout and crops, with the 8 frames sampled densely
# (DenseSampleFrames: consecutive-interval frames inside a 64-frame window) instead of one per segment; tested on
# the dense positions x ThreeCrop 256. 8 videos per GPU.
_base_ = ['./kinetics400_video_tsm.py']
dense_sampler = dict(type='DenseSampleFrames', clip_len=1, frame_interval=1, num_clips=8)
train_pipeline = [
    dict(type='PyAVInit'), dense_sampler, dict(type='PyAVDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PyAVInit'), dict(dense_sampler, test_mode=True), dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224), dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='PyAVInit'), dict(dense_sampler, test_mode=True), dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256), dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
