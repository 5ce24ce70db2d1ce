# The ResNet paper's recipe (He et al., 2016): SGD, momentum 0.9, weight decay 1e-4, lr 0.1 for a total batch of
# 256, divided by 10 every 30 epochs; plus a 5-epoch linear warmup (Goyal et al., 2017).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 80], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# tools/train.py --auto-scale-lr scales lr by (GPUs x batch per GPU) / base_batch_size.
auto_scale_lr = dict(enable=False, base_batch_size=256)
