# NTU RGB+D 60 cross-subject videos with their 2D skeletons for PoseC3D's RGB + pose network (mmaction2's
# ntu60_2d.pkl and the dataset's .mp4 files; paths are placeholders): 8 frames and 32 skeleton frames drawn uniformly
# from each video, the skeleton's box (padded to a square) cropped out of the frames, 224 px frames with 56 px joint
# heatmaps (scaling 0.25) in training (random crop, flip with COCO's left/right joints), 256 / 64 px in testing
# (1 clip when validating, 10 averaged when testing).
dataset_type = 'PoseDataset'
data_root = 'data/nturgbd_videos/'
ann_file = 'data/skeleton/ntu60_2d.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
heatmaps = dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25)
clip_len = dict(RGB=8, Pose=32)
eval_steps = [dict(type='MMDecode'), dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
              dict(type='Resize', scale=(256, 256), keep_ratio=False), heatmaps,
              dict(type='FormatShape', input_format='NCTHW'),
              dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))]
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    heatmaps,
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs')),
]
val_pipeline = [dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1, test_mode=True), *eval_steps]
test_pipeline = [dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=10, test_mode=True), *eval_steps]
train_dataloader = dict(
    batch_size=6, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, data_prefix=dict(video=data_root), split='xsub_train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, data_prefix=dict(video=data_root), split='xsub_val',
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, data_prefix=dict(video=data_root), split='xsub_val',
                 pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
