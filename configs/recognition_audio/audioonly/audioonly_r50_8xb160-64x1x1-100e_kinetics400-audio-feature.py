# mmaction2's audio-only ResNetAudio R50 on Kinetics-400 spectrograms: 100 epochs, SGD lr 2.0 (8 GPUs x 160) with
# cosine decay, weight decay 1e-4, gradients clipped at norm 40. mmaction2 publishes no accuracy for it, and its
# config passes suffix='.npy', which its own AudioDataset refuses (left out here); not run here (no Kinetics audio).
_base_ = ['../../_base_/models/audioonly_r50.py', '../../_base_/datasets/kinetics400_audio_feature.py',
          '../../_base_/default_runtime.py']
train_dataloader = dict(batch_size=160)
val_dataloader = dict(batch_size=160)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=100, by_epoch=True)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=2.0, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, interval=5))
