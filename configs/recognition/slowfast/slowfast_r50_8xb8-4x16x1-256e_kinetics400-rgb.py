# mmaction2's SlowFast R50 4x16x1 on Kinetics-400, from scratch: 32x2x1 clips, 8 GPUs x 8 clips, SGD lr 0.1 with a
# 34-epoch linear warmup and cosine decay over 256 epochs; tested 10 clips x 3 crops.
_base_ = ['../../_base_/models/slowfast_r50.py', '../../_base_/datasets/kinetics400_video_32x2x1_rrc.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(lr=0.1))
train_cfg = dict(max_epochs=256, val_interval=5)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=34, convert_to_iter_based=True),
                   dict(type='CosineAnnealingLR', T_max=256, eta_min=0, by_epoch=True, begin=0, end=256)]
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=3))
