# The video demo's clips (tools/demos/video_clips.py -> data/video_demo): 8-frame clips of real videos labelled by
# playback speed (1x / 4x) or direction; the task and split are chosen by the list files (tools/demos/video_temporal.py
# sets them). Frames have a short side of 64; training takes TSN's multi-scale corner crops resized to 48x48 and
# random flips (the same box and flip for all 8 frames), testing the centre 64x64 resized to 48x48.
data_root = 'data/video_demo'
ann_train, ann_test = 'speed_time_train.txt', 'speed_time_test.txt'
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='MultiScaleCrop', input_size=64, scales=(1, 0.875, 0.75), random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', data_root=data_root, ann_file=ann_train, data_prefix=dict(video=''),
                 num_classes=2, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VideoDataset', data_root=data_root, ann_file=ann_test, data_prefix=dict(video=''),
                 num_classes=2, pipeline=test_pipeline, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1,))))
test_evaluator = val_evaluator
