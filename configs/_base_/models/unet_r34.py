# U-Net on a ResNet-34 encoder. The encoder returns strides 2 ('stem'), 4, 8, 16, 32; the decoder reads their
# channels and strides from the backbone's feature_specs, so only the decoder's own widths are written here
# (one per block, deepest first: four skip blocks + one x2 block up to full resolution).
model = dict(
    type='UNet',
    backbone=dict(type='ResNet', depth=34, in_channels=3, out_indices=('stem', 0, 1, 2, 3), norm_eval=False),
    decoder=dict(decoder_channels=(256, 128, 64, 32, 16), upsample='nearest', attention=None),
    num_classes=2,
    loss=[dict(type='CrossEntropyLoss'), dict(type='DiceLoss')],
    test_cfg=dict(mode='whole'),
)
show_hook = 'SegOverlayHook'  # tools/test.py --show-dir writes image | ground truth | prediction PNGs
