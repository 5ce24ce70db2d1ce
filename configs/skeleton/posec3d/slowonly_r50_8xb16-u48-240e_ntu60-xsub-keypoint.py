# mmaction2's PoseC3D (SlowOnly R50 on joint heatmaps) on NTU-60 cross-subject, trained from scratch: 24 epochs of
# the 10x repeated train split (240 passes), SGD lr 0.2 (8 GPUs x 16) with cosine decay per iteration, weight decay
# 3e-4, gradients clipped at norm 40. mmaction2 reports 93.6 top-1 with it (its metafile); not run here (no NTU).
_base_ = ['../../_base_/models/slowonly_r50_posec3d.py', '../../_base_/datasets/ntu60_xsub_keypoint_u48.py',
          '../../_base_/default_runtime.py']
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=24, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=24, by_epoch=True, convert_to_iter_based=True)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.0003),
                     clip_grad=dict(max_norm=40, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=128)
