# As sgd_step_90e (SGD, momentum 0.9, wd 1e-4, lr 0.1 at batch 256, 5-epoch linear warmup) with a cosine decay
# to 0. The cosine has no `end`: it lasts until train_cfg.max_epochs, so a leaf may change only max_epochs.
_base_ = ['./sgd_step_90e.py']
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=5, eta_min=0, convert_to_iter_based=True),
]
