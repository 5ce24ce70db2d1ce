# Open-set verification on the UCI digits (docs/face.md): a shallow IResNet (the first two stages at base width 16,
# 1-channel 16x16 input) with the ArcFace head, trained on digits 0-6, verified on pairs of digits 7-9.
# `make demo-face` runs it with the CosFace and softmax variants, 3 seeds each.
_base_ = ['../_base_/models/arcface_iresnet50.py', '../_base_/datasets/digits_openset_face.py',
          '../_base_/default_runtime.py']
model = dict(
    backbone=dict(depth=18, in_channels=1, base_channels=16, num_stages=2, strides=(1, 2), out_indices=(1,)),
    num_classes=175,  # 7 digits + 168 composed identities (the dataset's num_classes)
    input_size=(16, 16), embedding=dict(embedding_dim=64),
    margin_head=dict(type='ArcFaceHead', scale=16.0, margin=0.3),
    data_preprocessor=dict(mean=[78.0], std=[96.0]),
)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, eta_min=0, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=10, save_best=None))
