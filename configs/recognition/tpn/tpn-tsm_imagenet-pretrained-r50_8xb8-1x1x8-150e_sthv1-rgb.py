# mmaction2's TPN-TSM R50 1x1x8 on Something-Something V1: 8 GPUs x 8 videos, SGD (Nesterov) lr 0.01, weight decay
# 5e-4, gradients clipped at 20, steps at 75 and 125 of 150 epochs, validation every 5; twice-sampled x 3 crops test.
_base_ = ['../../_base_/models/tpn_tsm_r50.py', '../../_base_/datasets/sthv1_rawframes_1x1x8_rrc_jitter.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4), clip_grad=dict(max_norm=20))
train_cfg = dict(max_epochs=150, val_interval=5)
param_scheduler = [dict(type='MultiStepLR', begin=0, end=150, by_epoch=True, milestones=[75, 125], gamma=0.1)]
