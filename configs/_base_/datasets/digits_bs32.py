# UCI handwritten digits (8x8 grey, 10 classes) from `python tools/data/fetch_data.py digits`: data/digits/train
# and data/digits/val (held out, stratified 20%), at their native 8x8; random 1-pixel shifts for training.
data_root = 'data/digits'
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Albu', transforms=[dict(type='Affine', translate_px=(-1, 1), p=0.5)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ImageFolderDataset', data_root=f'{data_root}/train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageFolderDataset', data_root=f'{data_root}/val', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
