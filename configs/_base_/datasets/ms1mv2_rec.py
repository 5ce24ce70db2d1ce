# insightface's MS1MV2 (faces_emore: 5.8M aligned 112x112 crops of 85,742 identities) as it ships: train.rec +
# train.idx, read without mxnet (FaceRecDataset). Placeholder paths: put the unpacked folder at data/faces_emore
# (it holds lfw.bin, cfp_fp.bin, agedb_30.bin too) or override data_root. Training flips half the faces, as
# arcface_torch; the model's data preprocessor normalises to [-1, 1]. Validation: 10-fold accuracy with the flip
# test on arcface_torch's val_targets lfw, cfp_fp and agedb_30, each scored and logged by its name.
data_root = 'data/faces_emore'
train_pipeline = [
    dict(type='LoadImageFromBytes'),
    dict(type='Albu', transforms=[dict(type='HorizontalFlip', p=0.5)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromBytes'),
    dict(type='PackInputs', meta_keys=('pair_index', 'pair_side', 'is_same', 'verification_set')),
]
train_dataloader = dict(
    batch_size=128, num_workers=2, persistent_workers=True, drop_last=True,  # Partial FC: equal batches per rank
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='FaceRecDataset', data_root=data_root, num_classes=85742, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128, num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FaceVerificationDataset', pipeline=test_pipeline,
                 bin_file=[f'{data_root}/lfw.bin', f'{data_root}/cfp_fp.bin', f'{data_root}/agedb_30.bin']),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceVerificationMetric')
test_evaluator = val_evaluator
