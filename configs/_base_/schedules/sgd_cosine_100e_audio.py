# mmaction2's audio schedule (recognition_audio): 100 epochs, SGD lr 0.2 (8 GPUs x 320 clips), momentum 0.9, weight
# decay 1e-4, gradients clipped at norm 40, cosine decay per epoch; validation every 5 epochs (mmaction2's leaves also
# keep the last 3 checkpoints, written every 5 epochs: default_hooks, set beside default_runtime's).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=100, by_epoch=True)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
