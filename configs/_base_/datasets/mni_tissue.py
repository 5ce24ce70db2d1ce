# MNI152 2009a T1 template, from `python tools/data/fetch_data.py mni`: axial slices, 3 classes from the grey and
# white matter probability maps (stored 0-255) at 0.5, background elsewhere; every 5th slice held out for val.
data_root = 'data/mni'
classes = ('background', 'grey_matter', 'white_matter')
dataset = dict(type='NiftiSliceDataset', data_root=data_root, classes=classes, axis='axial', holdout_every=5,
               cases=[dict(images='t1.nii.gz', probs=['gm.nii.gz', 'wm.nii.gz'])], prob_scale=255,
               normalize=dict(mode='percentile', low=0.5, high=99.5))
train_pipeline = [
    dict(type='RandomPatch', size=128, fg_prob=0.9),
    # axial slices are (x, y) = (left-right, back-front): VerticalFlip mirrors left and right, as the 3D config
    dict(type='SegAlbu', transforms=[dict(type='VerticalFlip', p=0.5)]),
    dict(type='PackSegInputs'),
]
test_pipeline = [dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(dataset, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SegMetric', hd95=True)
test_evaluator = val_evaluator
