# Short iteration-based schedule for CPU-sized segmentation runs: AdamW (lr 1e-3, weight decay 1e-4), a
# 20-iteration linear warmup, then a cosine to 1e-5. The cosine has no `end`: mmengine ends it at
# train_cfg.max_iters, so a leaf changes only max_iters. Validation and the (only) checkpoint at the last iteration.
# It inherits the runtime because being iteration-based changes the checkpoint and log hooks too.
_base_ = ['../default_runtime.py']
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
                   dict(type='CosineAnnealingLR', by_epoch=False, begin=20, eta_min=1e-5)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=10 ** 9)  # mmengine also validates at the end
val_cfg = dict()
test_cfg = dict()
# log_metric_by_epoch=False: validation lines are logged at their iteration (mmengine's default put every one at
# step 0, the epoch of an iteration-based run, as mmseg's iteration configs avoid the same way)
default_hooks = dict(logger=dict(interval=10, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval=10 ** 9, save_best=None))
log_processor = dict(by_epoch=False)
