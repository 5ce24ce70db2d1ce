# I3D R50 (mmaction2's i3d_r50): ResNet3d-50 with a 5x7x7 stem, temporal strides 2 in the stem and its pool, and
# mmaction2's inflation pattern, initialised from torchvision's 2D ResNet-50 (inflated; the file is looked up in
# torch's hub cache, see docs/weights.md), then average over (T, H, W), dropout 0.5 and a linear classifier.
# Clips are (N, 3, T, H, W) floats already normalised by the pipeline; multi-clip tests give (N, clips, 3, T, H, W).
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=50, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                  inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)), zero_init_residual=False,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    num_classes=400,
    dropout=0.5,
    average_clips='prob',
)
