# mmaction2's PoseC3D RGB + pose network on NTU-60 cross-subject: 20 epochs, SGD lr 0.0075 (8 GPUs x 6) stepped down
# 10x at epochs 12 and 16, weight decay 1e-4, gradients clipped at norm 40. mmaction2 starts it from its rgb_only and
# pose_only checkpoints merged (its load_from URL; no network here): give each pathway its stream's checkpoint
# instead, rgb_pathway=dict(..., pretrained='rgb_only.pth') and pose_pathway=dict(..., pretrained='pose_only.pth')
# (docs/video.md). mmaction2 reports 96.8 top-1 for the 1:1 fusion, 10-clip testing (its README); not run here.
_base_ = ['../../../_base_/models/rgbposec3d_r50.py', '../../../_base_/datasets/ntu60_xsub_rgbpose.py',
          '../../../_base_/default_runtime.py']
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.0075, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=20, by_epoch=True, milestones=[12, 16], gamma=0.1)]
auto_scale_lr = dict(enable=False, base_batch_size=48)
