# mmaction2's TPN SlowOnly R50 8x8x1 on Kinetics-400: 8 GPUs x 8 clips, SGD (Nesterov) lr 0.01, steps at 75 and 125
# of 150 epochs; tested 10 clips x 3 crops. The clips are SlowOnly 8x8x1's; mmaction2's TPN config also jitters
# colours (its ColorJitter works here by that name, and its own config file runs here unchanged).
_base_ = ['../../_base_/models/tpn_slowonly_r50.py', '../../_base_/datasets/kinetics400_video_8x8x1.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
train_dataloader = dict(batch_size=8)
optim_wrapper = dict(optimizer=dict(nesterov=True))
train_cfg = dict(max_epochs=150, val_interval=10)
param_scheduler = [dict(type='MultiStepLR', begin=0, end=150, by_epoch=True, milestones=[75, 125], gamma=0.1)]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=5))
