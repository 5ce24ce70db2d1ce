# The demo (tools/demo.py): ResNet-18 with a 1-channel 3x3 stride-1 stem on the 8x8 UCI digits, on CPU.
_base_ = ['../_base_/models/resnet18.py', '../_base_/datasets/digits_bs32.py',
          '../_base_/schedules/sgd_cosine_warmup1e.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(in_channels=1, small_stem=True), num_classes=10,
             data_preprocessor=dict(mean=[78.0], std=[96.0]))  # of the training pixels (0..255)
train_cfg = dict(max_epochs=10)
default_hooks = dict(logger=dict(interval=15))
