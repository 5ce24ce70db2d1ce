# mmaction2's SlowOnly R50 AVA v2.1 detector: 20 epochs, SGD lr 0.2 (8 GPUs x 16 clips) with 5 warm-up epochs and
# steps at 10 and 15, gradients clipped at norm 40. mmaction2 reports 20.72 frame mAP with it (its metafile); not
# run here (no AVA offline).
_base_ = ['../../_base_/models/slowonly_r50_ava.py', '../../_base_/datasets/ava21_rawframes_4x16.py',
          '../../_base_/default_runtime.py']
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5),
                   dict(type='MultiStepLR', begin=0, end=20, by_epoch=True, milestones=[10, 15], gamma=0.1)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.00001),
                     clip_grad=dict(max_norm=40, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=128)
