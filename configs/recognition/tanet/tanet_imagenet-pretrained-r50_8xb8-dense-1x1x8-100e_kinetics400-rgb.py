# mmaction2's TANet R50 dense 1x1x8 on Kinetics-400: 8 densely sampled frames, 8 GPUs x 8 videos, SGD lr 0.01 with
# TSM's parameter groups, no warmup, steps x0.1 at epochs 50, 75 and 90 of 100; validation every 5 epochs.
_base_ = ['../../_base_/models/tanet_r50.py', '../../_base_/datasets/kinetics400_video_dense_1x1x8.py',
          '../../_base_/schedules/sgd_tsm_50e_video.py', '../../_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=100, by_epoch=True, milestones=[50, 75, 90], gamma=0.1)]
train_cfg = dict(max_epochs=100, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=5))
auto_scale_lr = dict(base_batch_size=64)
