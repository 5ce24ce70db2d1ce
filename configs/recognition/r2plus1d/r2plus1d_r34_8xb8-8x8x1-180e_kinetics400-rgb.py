# mmaction2's R(2+1)D-34 8x8x1 on Kinetics-400, from scratch: 8 frames 8 apart, 8 GPUs x 8 clips, SGD lr 0.01 (clip
# 40) with a cosine over 180 epochs; tested 10 clips x 3 crops.
_base_ = ['../../_base_/models/r2plus1d_r34.py', '../../_base_/datasets/kinetics400_video_8x8x1.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
train_dataloader = dict(batch_size=8)
val_dataloader = dict(batch_size=8)
train_cfg = dict(max_epochs=180, val_interval=20)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=180, eta_min=0, by_epoch=True)]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
