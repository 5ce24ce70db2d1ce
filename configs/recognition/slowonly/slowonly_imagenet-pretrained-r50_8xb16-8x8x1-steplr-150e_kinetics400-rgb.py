# mmaction2's SlowOnly R50 8x8x1 on Kinetics-400: 8 frames 8 apart, RandomResizedCrop, 8 GPUs x 16 clips, SGD lr 0.02
# with a 10-epoch warmup and steps at 90 and 130 of 150 epochs; tested 10 clips x 3 crops.
_base_ = ['../../_base_/models/slowonly_r50.py', '../../_base_/datasets/kinetics400_video_8x8x1.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
optim_wrapper = dict(optimizer=dict(lr=0.02))
train_cfg = dict(max_epochs=150, val_interval=5)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=10),
                   dict(type='MultiStepLR', begin=10, end=150, by_epoch=True, milestones=[90, 130], gamma=0.1)]
auto_scale_lr = dict(base_batch_size=128)
