# mmaction2's TSM schedule: SGD lr 0.02 (8 GPUs x 16 videos), momentum 0.9, weight decay 1e-4, gradients clipped at
# norm 20, TSM's parameter groups (TSMOptimWrapperConstructor, classifier lr x5 / bias x10), a 5-epoch linear warmup,
# then steps x0.1 at epochs 25 and 45 of 50; validation every epoch.
optim_wrapper = dict(constructor='TSMOptimWrapperConstructor', paramwise_cfg=dict(fc_lr5=True),
                     optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5),
                   dict(type='MultiStepLR', begin=0, end=50, by_epoch=True, milestones=[25, 45], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=128)
