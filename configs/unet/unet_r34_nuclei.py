# U-Net ResNet-34 for nuclei (binary, sigmoid) on one 16-bit grey channel, trained from scratch on CPU.
#   python tools/train.py configs/unet/unet_r34_nuclei.py
#   python tools/test.py configs/unet/unet_r34_nuclei.py work_dirs/unet_r34_nuclei/iter_200.pth \
#       --show-dir work_dirs/unet_r34_nuclei/show
_base_ = ['../_base_/models/unet_r34.py', '../_base_/datasets/nuclei_seg.py',
          '../_base_/schedules/adamw_cosine_iters.py']
model = dict(backbone=dict(in_channels=1), binary=True)
train_cfg = dict(max_iters=200)
# CPU training: glibc keeps freed activations instead of faulting them in at every step (docs/training.md)
env_cfg = dict(malloc=dict(mmap_threshold=2**31 - 1, trim_threshold=2**31 - 1))
