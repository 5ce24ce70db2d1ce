# mmaction2's TANet R50 1x1x8 on Something-Something V1: 174 classes (dropout 0.6), 8 GPUs x 8 videos, SGD lr 0.01
# with TSM's parameter groups and weight decay 1e-3, no warmup, steps x0.1 at epochs 30, 40 and 45 of 50.
_base_ = ['../../_base_/models/tanet_r50.py', '../../_base_/datasets/sthv1_rawframes_1x1x8.py',
          '../../_base_/schedules/sgd_tsm_50e_video.py', '../../_base_/default_runtime.py']
model = dict(cls_head=dict(num_classes=174, dropout_ratio=0.6))
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=1e-3))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=50, by_epoch=True, milestones=[30, 40, 45], gamma=0.1)]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=64)
