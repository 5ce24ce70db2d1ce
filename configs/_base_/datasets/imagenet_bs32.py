# ImageNet-style folders: data/imagenet/train/<class>/<image> and data/imagenet/val/<class>/<image> (the val
# images sorted into class folders). 32 images per process; 8 processes make the paper's batch of 256.
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Albu', transforms=[dict(type='RandomResizedCrop', size=(224, 224)),
                                  dict(type='HorizontalFlip', p=0.5)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=256),
    dict(type='Albu', transforms=[dict(type='CenterCrop', height=224, width=224)]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ImageFolderDataset', data_root=f'{data_root}/train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageFolderDataset', data_root=f'{data_root}/val', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
