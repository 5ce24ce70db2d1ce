# mmaction2's audio-only ResNetAudio R50 on Kinetics-400 spectrograms: the audio schedule (100 epochs, cosine decay)
# at SGD lr 2.0 for 8 GPUs x 160. mmaction2 publishes no accuracy for it, and its config passes suffix='.npy', which
# its own AudioDataset refuses (left out here); not run here (no Kinetics audio).
_base_ = ['../../_base_/models/audioonly_r50.py', '../../_base_/datasets/kinetics400_audio_feature.py',
          '../../_base_/schedules/sgd_cosine_100e_audio.py', '../../_base_/default_runtime.py']
train_dataloader = dict(batch_size=160)
val_dataloader = dict(batch_size=160)
optim_wrapper = dict(optimizer=dict(lr=2.0))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, interval=5))
