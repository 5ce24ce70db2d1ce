# MNI152 2009a T1 template as one 3D case (`python tools/data/fetch_data.py mni`): grey/white matter from the
# 0-255 probability maps at 0.5. Hemisphere split: train on x < 98 (left), evaluate on x >= 98 (right), along the
# file's left-right axis (RAS, split_axis=0), so the two share no voxel. Depth is the axial axis; samples are
# (1, 189, 98 or 99, 233) volumes, spacing 1 mm.
data_root = 'data/mni'
classes = ('background', 'grey_matter', 'white_matter')
dataset = dict(type='NiftiVolumeDataset', data_root=data_root, classes=classes, depth_axis='axial', split_axis=0,
               cases=[dict(images='t1.nii.gz', probs=['gm.nii.gz', 'wm.nii.gz'])], prob_scale=255,
               normalize=dict(mode='percentile', low=0.5, high=99.5))
train_pipeline = [
    dict(type='RandomPatch3D', size=(64, 64, 64), fg_prob=0.9),
    dict(type='RandomFlip3D', prob=0.5, axes=(1,)),  # left-right mirror: a left hemisphere looks like a right one
    dict(type='PackVolumeInputs'),
]
test_pipeline = [dict(type='PackVolumeInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(dataset, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SegMetric', hd95=True)
test_evaluator = val_evaluator
