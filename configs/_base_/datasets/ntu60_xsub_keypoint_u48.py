# NTU RGB+D 60 cross-subject 2D skeletons for PoseC3D (mmaction2's ntu60_2d.pkl from its skeleton data page; the
# path is a placeholder): 48 frames drawn uniformly from each sequence, the skeleton's box padded to a square, joint
# heatmaps at 56 px (training, random crop and flip with COCO's left/right joints) or 64 px; tested on 10 clips,
# each also mirrored (double=True), scores averaged. The train split is repeated 10 times per epoch.
dataset_type = 'PoseDataset'
ann_file = 'data/skeleton/ntu60_2d.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
heatmaps = dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False)
eval_steps = [dict(type='PoseDecode'), dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
              dict(type='Resize', scale=(-1, 64)), dict(type='CenterCrop', crop_size=64)]
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
val_pipeline = [dict(type='UniformSampleFrames', clip_len=48, num_clips=1, test_mode=True), *eval_steps, heatmaps,
                dict(type='FormatShape', input_format='NCTHW_Heatmap'), dict(type='PackActionInputs')]
test_pipeline = [dict(type='UniformSampleFrames', clip_len=48, num_clips=10, test_mode=True), *eval_steps,
                 dict(heatmaps, double=True, left_kp=left_kp, right_kp=right_kp),
                 dict(type='FormatShape', input_format='NCTHW_Heatmap'), dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RepeatDataset', times=10,
                 dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_train', pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val', pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
