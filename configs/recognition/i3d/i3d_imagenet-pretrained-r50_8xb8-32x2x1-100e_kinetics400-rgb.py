# mmaction2's I3D R50 on Kinetics-400: 32x2x1 clips, 8 GPUs x 8 clips, SGD 100 epochs; tested 10 clips x 3 crops.
_base_ = ['../../_base_/models/i3d_r50.py', '../../_base_/datasets/kinetics400_video_3d.py',
          '../../_base_/schedules/sgd_100e_video.py', '../../_base_/default_runtime.py']
model = dict(data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                    std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=5))
