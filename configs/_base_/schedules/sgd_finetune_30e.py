# Fine-tuning from pretrained weights: lr 0.01 (batch 256), 1 warmup epoch, cosine decay over 30 epochs.
_base_ = ['./sgd_cosine_warmup1e.py']
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=30)
