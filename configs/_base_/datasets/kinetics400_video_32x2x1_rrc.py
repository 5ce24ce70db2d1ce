# Kinetics-400 videos as kinetics400_video_3d.py (32 frames 2 apart, 10 clips x 3 crops in testing), trained on
# RandomResizedCrop instead of MultiScaleCrop: mmaction2's SlowFast pipeline. (mmengine cannot edit one step of a
# base list, so the training pipeline is written out; kinetics400_video_8x8x1.py differs in SampleFrames only.)
_base_ = ['./kinetics400_video_3d.py']
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
