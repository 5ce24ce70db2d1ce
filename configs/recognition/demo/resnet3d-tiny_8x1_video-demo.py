# The video demo's temporal model (tools/demos/video_temporal.py): a tiny ResNet3d-18 (base width 8, every block
# inflated to 3x1x1 temporal kernels) on 8-frame 48x48 clips, from scratch, AdamW (lr 1e-3) for 300 iterations on CPU.
# No early spatial downsampling (mmaction2's conv1_stride_s=1, with_pool1=False): the first stage sees all 48x48
# positions, where the 1-3 pixel motions of 1x clips are still visible (the default stem left 12x12).
_base_ = ['../../_base_/datasets/video_demo.py', '../../_base_/schedules/adamw_cosine_iters.py']
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=18, base_channels=8, zero_init_residual=False, conv1_stride_s=1,
                  with_pool1=False),
    num_classes=2, dropout=0.2, average_clips='prob',
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           format_shape='NCTHW'),
)
train_cfg = dict(max_iters=300)
