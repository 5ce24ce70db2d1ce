# Something-Something V1 as sthv1_rawframes_1x1x8.py, with TPN-TSM's training augmentation (mmaction2's tpn-tsm
# config): an Inception-style random resized crop of the full frame instead of the fixed multi-scale crops, then
# colour jitter after the (label-swapping) flip.
_base_ = ['./sthv1_rawframes_1x1x8.py']
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8), dict(type='RawFrameDecode'),
    dict(type='RandomResizedCrop'), dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map={{_base_.sthv1_flip_label_map}}),
    dict(type='ColorJitter'), dict(type='FormatShape', input_format='NCHW'), dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
