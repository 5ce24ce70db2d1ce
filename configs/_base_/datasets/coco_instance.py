# COCO 2017 boxes and masks (coco_detection.py with masks loaded and the segm metric).
_base_ = './coco_detection.py'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDetAnnotations', with_mask=True),
    dict(type='DetResize', scale=(1333, 800), keep_ratio=True),
    dict(type='DetAlbu', transforms=[dict(type='HorizontalFlip', p=0.5)]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
