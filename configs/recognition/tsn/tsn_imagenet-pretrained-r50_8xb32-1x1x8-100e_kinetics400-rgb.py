# mmaction2's TSN R50 1x1x8 on Kinetics-400: 8 segments, 8 GPUs x 32 videos, SGD 100 epochs (lr 0.01, clip 40).
_base_ = ['../../_base_/models/tsn_r50.py', '../../_base_/datasets/kinetics400_video_tsn.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
