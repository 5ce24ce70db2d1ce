# TSM R50 1x1x8 on UCF-101 split 1 (101 classes): mmaction2's layout data/ucf101/videos + the lists that
# `tools/data/action_lists.py ucf101 ucfTrainTestlist data/ucf101` writes; otherwise the Kinetics-400 TSM recipe.
_base_ = ['./tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py']
data_root = 'data/ucf101/videos'
model = dict(cls_head=dict(num_classes=101))
train_dataloader = dict(dataset=dict(ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
                                     data_prefix=dict(video=data_root), num_classes=101))
val_dataloader = dict(dataset=dict(ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
                                   data_prefix=dict(video=data_root), num_classes=101))
test_dataloader = dict(dataset=dict(ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
                                    data_prefix=dict(video=data_root), num_classes=101))
