# 3D U-Net on a volumetric ResNet-18 (VolumeResNet: 3x3x3 convs, 7x7x7 stride-2 stem, MedicalNet's layout). The
# encoder returns strides 2 ('stem'), 4, 8, 16, 32 along depth and in-plane; the decoder (dims=3, set by the model
# from the 3D backbone) reads channels and strides from its feature_specs. Same keys as the 2D unet_r34.
model = dict(
    type='UNet',
    backbone=dict(type='VolumeResNet', depth=18, in_channels=1, out_indices=('stem', 0, 1, 2, 3), norm_eval=False),
    decoder=dict(decoder_channels=(256, 128, 64, 32, 16), upsample='nearest', attention=None),
    num_classes=2,
    loss=[dict(type='CrossEntropyLoss'), dict(type='DiceLoss')],
    test_cfg=dict(mode='slide', patch_size=(96, 96, 96), overlap=0.25, blend='gaussian', batch_size=1),
)
show_hook = 'SegOverlayHook'  # tools/test.py --show-dir: image | truth | prediction, each volume's busiest slice
