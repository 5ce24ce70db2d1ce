# AVA v2.1 (mmaction2's layout; paths are placeholders): rawframes at 30 fps per video folder, keyframes once a
# second from 902 to 1798 s, FAIR's person proposals (recall 93.9%), the 60 ActivityNet classes scored. A clip is
# 4 frames 16 apart around the keyframe; training rescales the short side to 256-320, crops 256 and flips; testing
# resizes to 256 without cropping. Frame mAP at IoU 0.5 (AVAMetric).
dataset_type = 'AVADataset'
data_root = 'data/ava/rawframes'
anno_root = 'data/ava/annotations'
label_file = f'{anno_root}/ava_action_list_v2.1_for_activitynet_2018.pbtxt'
train_pipeline = [
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=16),
    dict(type='RawFrameDecode'),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=256),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=16, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f'{anno_root}/ava_train_v2.1.csv', pipeline=train_pipeline,
                 exclude_file=f'{anno_root}/ava_train_excluded_timestamps_v2.1.csv', label_file=label_file,
                 proposal_file=f'{anno_root}/ava_dense_proposals_train.FAIR.recall_93.9.pkl',
                 data_prefix=dict(img=data_root)))
val_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f'{anno_root}/ava_val_v2.1.csv', pipeline=val_pipeline,
                 exclude_file=f'{anno_root}/ava_val_excluded_timestamps_v2.1.csv', label_file=label_file,
                 proposal_file=f'{anno_root}/ava_dense_proposals_val.FAIR.recall_93.9.pkl',
                 data_prefix=dict(img=data_root), test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVAMetric', ann_file=f'{anno_root}/ava_val_v2.1.csv', label_file=label_file,
                     exclude_file=f'{anno_root}/ava_val_excluded_timestamps_v2.1.csv')
test_evaluator = val_evaluator
