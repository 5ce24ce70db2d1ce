# Short runs: as sgd_cosine_90e (SGD, momentum 0.9, wd 1e-4, lr 0.1 at batch 256) with a 1-epoch linear warmup;
# the cosine lasts until train_cfg.max_epochs, which a leaf config sets.
_base_ = ['./sgd_cosine_90e.py']
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, eta_min=0, convert_to_iter_based=True),
]
