# mmaction2's TSN R50 flow stream 5x1x3 on Kinetics-400: 3 segments of 5 flow fields stacked as 10 channels (the
# ImageNet stem's RGB kernels spread over them by the loader), SGD lr 0.005, steps at epochs 70 and 100 of 110.
_base_ = ['../../_base_/models/tsn_r50.py', '../../_base_/datasets/kinetics400_rawframes_flow_5x1x3.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
model = dict(backbone=dict(in_channels=10),
             data_preprocessor=dict(mean=[128, 128] * 5, std=[128, 128] * 5))  # 2 x clip_len channels
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=110, by_epoch=True, milestones=[70, 100], gamma=0.1)]
train_cfg = dict(max_epochs=110, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
