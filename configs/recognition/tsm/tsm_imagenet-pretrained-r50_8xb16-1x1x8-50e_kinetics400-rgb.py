# mmaction2's TSM R50 1x1x8 on Kinetics-400: 8 segments, 8 GPUs x 16 videos, SGD 50 epochs with TSM's parameter
# groups; tested on 8 segments x 10 crops.
_base_ = ['../../_base_/models/tsm_r50.py', '../../_base_/datasets/kinetics400_video_tsm.py',
          '../../_base_/schedules/sgd_tsm_50e_video.py', '../../_base_/default_runtime.py']
default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=3))
