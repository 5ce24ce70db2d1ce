# arcface_torch's schedule: SGD (momentum 0.9, weight decay 1e-4 as its ms1mv2/glint360k configs), lr 0.1 for a
# total batch of 1024 (8 GPUs x 128), decayed per iteration by a polynomial of power 2 to 0 over 20 epochs, no
# warmup. --auto-scale-lr scales the lr to another total batch; --amp gives its fp16 training on a GPU.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=2.0, eta_min=0.0, by_epoch=True, begin=0, end=20,
                        convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(enable=False, base_batch_size=1024)
