# mmaction2's audio TSN R18 on Kinetics-400 spectrograms: 100 epochs, SGD lr 0.2 (8 GPUs x 320) with cosine decay,
# weight decay 1e-4, gradients clipped at norm 40. mmaction2 reports 13.7 top-1 (its metafile); not run here.
_base_ = ['../../_base_/models/tsn_r18_audio.py', '../../_base_/datasets/kinetics400_audio_feature.py',
          '../../_base_/default_runtime.py']
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=100, by_epoch=True)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, interval=5))
