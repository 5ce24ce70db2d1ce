# Something-Something V1 rawframes for 2D models (mmaction2's sthv1 1x1x8 pipelines): folders of '{:05}.jpg' frames
# from 1, 174 classes; 8 segments; TSM's 13 fixed multi-scale crops and flips that swap the left/right classes in
# training (a flipped "pushing left to right" is "right to left"); centre crop in validation; twice-sampled
# segments x ThreeCrop 256 in testing. 8 videos per GPU. Placeholder paths as mmaction2's.
data_root = 'data/sthv1/rawframes'
ann_file_train, ann_file_val = 'data/sthv1/sthv1_train_list_rawframes.txt', 'data/sthv1/sthv1_val_list_rawframes.txt'
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}
frames = dict(type='RawframeDataset', data_prefix=dict(img=data_root), filename_tmpl='{:05}.jpg', num_classes=174)
segments = dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8)
train_pipeline = [
    segments, dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv1_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(segments, test_mode=True), dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224), dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(segments, test_mode=True, twice_sample=True), dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)), dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(frames, ann_file=ann_file_train, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(frames, ann_file=ann_file_val, pipeline=val_pipeline, test_mode=True),
)
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(frames, ann_file=ann_file_val, pipeline=test_pipeline, test_mode=True),
)
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
