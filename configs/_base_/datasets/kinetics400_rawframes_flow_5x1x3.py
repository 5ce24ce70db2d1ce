# Kinetics-400 optical flow for TSN (mmaction2's 5x1x3 flow pipeline): rawframe folders of flow_x / flow_y JPEGs
# (tools/data/build_rawframes.py --task flow writes them and, with --ann-file, these lists); 3 segments of 5
# consecutive flow fields, each segment 10 channels (x1, y1, ..., x5, y5); 25 segments x 10 crops in testing.
data_root, data_root_val = 'data/kinetics400/rawframes_train', 'data/kinetics400/rawframes_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_flow.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_flow.txt'
clip_len, num_classes = 5, 400
flow = dict(type='RawframeDataset', filename_tmpl='flow_{}_{:05d}.jpg', modality='Flow', num_classes=num_classes)
train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3), dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)), dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 256)), dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 256)), dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(flow, ann_file=ann_file_train, data_prefix=dict(img=data_root), pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(flow, ann_file=ann_file_val, data_prefix=dict(img=data_root_val), pipeline=val_pipeline,
                 test_mode=True),
)
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(flow, ann_file=ann_file_val, data_prefix=dict(img=data_root_val), pipeline=test_pipeline,
                 test_mode=True),
)
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
