# COCO 2017 boxes: data/coco/{train2017,val2017,annotations/instances_{train,val}2017.json}. Training resizes to fit
# 1333x800 (aspect kept) and flips half the images; the data preprocessor normalises and pads to a multiple of 32.
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDetAnnotations'),
    dict(type='DetResize', scale=(1333, 800), keep_ratio=True),
    dict(type='DetAlbu', transforms=[dict(type='HorizontalFlip', p=0.5)]),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='DetResize', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/instances_train2017.json',
                 data_prefix=dict(img='train2017/'), filter_cfg=dict(filter_empty_gt=True, min_size=32),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/instances_val2017.json',
                 data_prefix=dict(img='val2017/'), test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/instances_val2017.json', metric='bbox')
test_evaluator = val_evaluator
# test-dev submission: point test_dataloader at image_info_test-dev2017.json / test2017 and use
# test_evaluator = dict(type='CocoMetric', metric='bbox', format_only=True, outfile_prefix='work_dirs/test-dev')
