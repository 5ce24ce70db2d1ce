# SlowOnly R50 (mmaction2's slowonly_r50 = ResNet3dSlowOnly): a 1x7x7 stem without temporal stride, temporal
# kernels only in stages 3-4 (inflate=(0, 0, 1, 1)), no pool2; initialised from an inflated ImageNet ResNet-50.
# I3DHead-equivalent classifier (dropout 0.5, multi-clip 'prob' averaging); clips normalised on the device.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=50, conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                  inflate=(0, 0, 1, 1), with_pool2=False, norm_eval=False, zero_init_residual=False,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    num_classes=400,
    dropout=0.5,
    average_clips='prob',
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
)
