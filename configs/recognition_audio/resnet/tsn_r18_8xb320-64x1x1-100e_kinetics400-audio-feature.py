# mmaction2's audio TSN R18 on Kinetics-400 spectrograms: 100 epochs, SGD lr 0.2 (8 GPUs x 320) with cosine decay,
# weight decay 1e-4, gradients clipped at norm 40. mmaction2 reports 13.7 top-1 (its metafile); not run here.
_base_ = ['../../_base_/models/tsn_r18_audio.py', '../../_base_/datasets/kinetics400_audio_feature.py',
          '../../_base_/schedules/sgd_cosine_100e_audio.py', '../../_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, interval=5))
