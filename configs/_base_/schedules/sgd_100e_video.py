# mmaction2's sgd_100e: SGD lr 0.01 (8 GPUs x 8 clips), momentum 0.9, weight decay 1e-4, gradients clipped at norm 40,
# steps x0.1 at epochs 40 and 80; validation every epoch. auto_scale_lr rescales lr to another total batch size.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=100, by_epoch=True, milestones=[40, 80], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)
