# arcface_torch's schedule (train_v2.py): SGD (momentum 0.9, weight decay 5e-4: its base.py and ms1mv2 configs), lr
# 0.1 for a total batch of 1024 (8 GPUs x 128), decayed per iteration to 0 over 20 epochs by its
# PolynomialLRWarmup, whose default power is 1 (a straight line; the older train.py used power 2), no warmup.
# --auto-scale-lr scales the lr to another total batch; --amp gives its fp16 training on a GPU.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=0, end=20,
                        convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(enable=False, base_batch_size=1024)
